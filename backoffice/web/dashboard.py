"""#19: what the start page counts: its tiles and its charts, each from the query of the list
it links to (defect 5: a tile said 3 cases in escalation where the chart beside it said 1).

Every bar links to its list with the filter that reproduces its number: the cases list by
state or by age, the escalations of a month, the access risks of a level, the mitigations
ending within so many days. A chart a person may not read is left out, not refused.

The inbox has no chart: its badge counts the cases waiting at a step of the person's, and
its list shows them, those its rules refuse for now marked "not yet" with why (``get_inbox``);
a chart of what may be done now could not agree with either without trying every case on
every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from backoffice.base.actor import Actor
from backoffice.cases.models import AGE_LABELS, ALL_STATUS_LABELS
from backoffice.cases.queries import AGE_BANDS, cases_by_age, cases_by_state
from backoffice.web.charts import Bar, Chart

__all__ = ["Dashboard", "get_dashboard", "MITIGATION_HORIZONS", "ESCALATION_MONTHS"]

#: the mitigations chart: ending within each of these days (and those already ended)
MITIGATION_HORIZONS = (30, 60, 90)
#: the escalations chart shows at most this many of the latest months
ESCALATION_MONTHS = 12


@dataclass
class Dashboard:
    """The start page's counts: ``by_state`` feeds the state chart and the escalation tile."""

    by_state: dict[str, int]
    charts: list[Chart] = field(default_factory=list)
    tiles: list[dict[str, Any]] = field(default_factory=list)


def _url(name: str, **query: Any) -> str:
    base = reverse(name)
    return f"{base}?{urlencode(query)}" if query else base


def get_dashboard(actor: Actor) -> Dashboard:
    """The charts and tiles the actor may see, each count from its list's own query."""
    permissions = actor.permissions
    by_state = cases_by_state(actor)
    board = Dashboard(by_state)
    board.charts.append(_state_chart(by_state))
    board.charts.append(_age_chart(actor))
    if "reports.read" in permissions:
        board.tiles.append(
            {
                "count": by_state.get("escalated", 0),
                "label": _("credit cases in escalation"),
                "url": _url("cases:list", state="escalated"),
            }
        )
        board.charts.append(_escalation_chart(actor))
        from backoffice.credit.queries import get_overdue_reviews

        board.tiles.append(
            {
                "count": get_overdue_reviews(actor).count(),
                "label": _("credits overdue for review"),
                "url": reverse("credit:overdue_reviews"),
            }
        )
    from backoffice.access.services import count_overdue_reviews

    overdue = count_overdue_reviews(actor)
    if overdue or "access.risk.read" in permissions:
        scope = "all" if "access.risk.read" in permissions else "mine"
        board.tiles.append(
            {
                "count": overdue,
                "label": _("access reviews overdue"),
                "url": _url("access:reviews", scope=scope, status="overdue"),
            }
        )
    if "access.risk.read" in permissions:
        board.charts.append(_risk_chart(actor))
        counts = _mitigation_counts()
        board.charts.append(_mitigation_chart(counts))
        board.tiles.append(
            {
                "count": counts["due"],
                "label": _("mitigations expiring or expired"),
                "url": _url("access:mitigations", status="due"),
            }
        )
    return board


def _state_chart(by_state: dict[str, int]) -> Chart:
    rows = sorted(by_state.items(), key=lambda row: (-row[1], row[0]))
    return Chart(
        "states",
        _("Cases I can see, by state"),
        _("Cases I may see, by their state now."),
        tuple(
            Bar(str(ALL_STATUS_LABELS.get(state, state)), n, _url("cases:list", state=state))
            for state, n in rows
        ),
        reverse("cases:list"),
    )


def _age_chart(actor: Actor) -> Chart:
    counts = cases_by_age(actor)
    return Chart(
        "ages",
        _("Open cases by age"),
        _("Open cases I may see, by how long ago they were started."),
        tuple(
            Bar(str(AGE_LABELS[key]), counts[key], _url("cases:list", age=key))
            for key, _low, _high in AGE_BANDS
        ),
        reverse("cases:list"),
    )


def _escalation_chart(actor: Actor) -> Chart:
    from backoffice.credit.queries import escalations_by_month

    months = escalations_by_month(actor)[-ESCALATION_MONTHS:]
    return Chart(
        "escalations",
        _("Escalations by month"),
        _("Credit cases whose votes differed and went to a higher level, by the month of it."),
        tuple(
            Bar(
                date_format(month, "YEAR_MONTH_FORMAT"),
                n,
                _url("credit:escalations", month=f"{month:%Y-%m}"),
            )
            for month, n in months
        ),
        reverse("credit:escalations"),
    )


def _risk_chart(actor: Actor) -> Chart:
    from backoffice.access.services import get_access_risks

    counts = get_access_risks(actor).by_level()
    return Chart(
        "risks",
        _("Access risks by level"),
        _("Access risks people hold today through their roles, mitigated or not, by level."),
        tuple(Bar(_(level), n, _url("access:risks", level=level)) for level, n in counts.items()),
        reverse("access:risks"),
    )


def _mitigation_counts(day: date | None = None) -> dict[str, int]:
    """The mitigations chart's and tile's numbers, in one query, by the list's own filters."""
    from backoffice.access.queries import count_mitigations

    wanted: dict[str, tuple[str, int | None]] = {"expired": ("expired", None), "due": ("due", None)}
    for days in MITIGATION_HORIZONS:
        wanted[f"within-{days}"] = ("expiring", days)
    return count_mitigations(wanted, day or timezone.localdate())


def _mitigation_chart(counts: dict[str, int]) -> Chart:
    bars = [Bar(_("ended"), counts["expired"], _url("access:mitigations", status="expired"))]
    for days in MITIGATION_HORIZONS:
        bars.append(
            Bar(
                _("ending within %(days)d days") % {"days": days},
                counts[f"within-{days}"],
                _url("access:mitigations", status="expiring", within=days),
            )
        )
    return Chart(
        "mitigations",
        _("Mitigations ending"),
        _("Mitigations of access risks that have ended or end within 30, 60 or 90 days."),
        tuple(bars),
        reverse("access:mitigations"),
    )
