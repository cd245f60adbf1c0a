"""Checked reads of the credit registers and reports (API, CSV and HTML share them).

Reports are for people with ``reports.read`` (board, risk control, compliance, internal
audit); everyone else gets the same refusal, ``reports.forbidden``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.base.pages import RecordPages
from backoffice.base.sorting import Sorting
from backoffice.cases.models import CaseEvent
from backoffice.core.errors import DomainError
from backoffice.credit.models import Borrower, Credit, CreditDecision

__all__ = [
    "BORROWER_SORTING",
    "REPORTS_PERMISSION",
    "Report",
    "access_reports",
    "access_credit_by_id",
    "get_borrowers",
    "get_decision_register",
    "get_escalations",
    "escalations_by_month",
    "parse_month",
    "get_risk_report",
    "get_overdue_reviews",
    "BORROWER_ORDER",
    "format_cell",
    "credit_row",
]

REPORTS_PERMISSION = "reports.read"

M = TypeVar("M", bound=Model)


def access_reports(actor: Actor) -> None:
    """Registers and reports are read by those with ``reports.read``, nobody else."""
    if REPORTS_PERMISSION not in actor.facts.permissions:
        raise DomainError(
            "reports.forbidden",
            "The credit registers and the risk report are for the board, risk control, "
            "compliance and internal audit (permission reports.read).",
        )


def access_credit_by_id(actor: Actor, credit_id: int) -> Credit:
    """A booked credit; those who work on credits or read reports see it, else 404."""
    facts = actor.facts
    allowed = {REPORTS_PERMISSION, "credit.monitor", "credit.provision", "credit.rating.set"}
    credit = Credit.objects.select_related("borrower", "group", "case_lead").filter(pk=credit_id)
    found = credit.first() if allowed & facts.permissions else None
    if found is None:
        raise DomainError("credit.not_found", f"There is no credit {credit_id} that you may see.")
    return found


#: who works on credits or controls them, and so needs to know the borrowers (AT 7.2)
BORROWER_READERS = frozenset(
    {
        REPORTS_PERMISSION,
        "case.read.all",
        "credit.apply",
        "credit.vote.market",
        "credit.vote.back_office",
        "credit.vote.board",
        "credit.monitor",
        "credit.control",
    }
)


def get_borrowers(actor: Actor) -> QuerySet[Borrower]:
    """Borrowers are customer data: only for those who work on or control credits."""
    if not BORROWER_READERS & actor.facts.permissions:
        do_refuse(
            "reports.forbidden",
            "The borrowers are for those who work on or control credits (need-to-know).",
            action="credit.denied",
            user=actor.user,
            object_type="borrowers",
            object_id="all",
        )
    return Borrower.objects.select_related("group")


#: borrowers by their number (unique), as the bank files them
BORROWER_ORDER = ("number",)

#: #19: the borrower register's sortable columns; the number is unique and breaks ties
BORROWER_SORTING = Sorting(
    Borrower,
    {"number": ("number",), "name": ("name",), "group": ("group__name",)},
    BORROWER_ORDER,
    tiebreak="number",
)


def search_borrowers(actor: Actor, text: str = "") -> QuerySet[Borrower]:
    """#19: the borrower register searched by number, name or group (need-to-know)."""
    borrowers = get_borrowers(actor)
    text = text.strip()
    if text:
        borrowers = borrowers.filter(
            Q(number__icontains=text) | Q(name__icontains=text) | Q(group__name__icontains=text)
        )
    return borrowers


def get_borrower(actor: Actor, number: str) -> dict[str, Any]:
    """#19: one borrower with its group, the group's exposure (CR-1), its credit cases and
    booked credits; 404 for a number that does not exist."""
    from backoffice.credit.engine import group_exposure  # the CR-1 sum the votes use

    found = search_borrowers(actor).filter(number=number).first()
    if found is None:
        raise DomainError("credit.not_found", f"There is no borrower {number}.")
    group = found.group
    members = list(group.borrowers.order_by("number").values_list("number", "name"))
    return {
        "borrower": found,
        "group": group,
        "members": members,
        "exposure": group_exposure(group.pk, group.currency),
        "decisions": list(
            found.decisions.select_related("case").order_by("-case_id")[:MAX_HISTORY]
        ),
        "credits": list(found.credits.order_by("-approved_on", "-pk")[:MAX_HISTORY]),
    }


#: how much history a borrower's page shows (the registers list it all)
MAX_HISTORY = 50


@dataclass(frozen=True)
class Report(RecordPages, Generic[M]):
    """A table read in pages (API, HTML) or whole (CSV): ``records`` sorted by ``order``, each
    made into a dict by ``row``; CSV and HTML show ``columns`` in this order.

    It holds the query, not the rows, so a register that grows with every credit case is
    never read into memory at once: a page reads ``limit`` rows, a CSV streams them.
    """

    title: str
    description: str
    columns: tuple[str, ...]
    records: QuerySet[M]
    order: tuple[str, ...]
    row: Callable[[M], dict[str, Any]]

    def cells(self) -> Iterator[list[str]]:
        """Every row as the text of its cells, ``columns`` in order (the CSV's lines)."""
        for row in self.all_rows():
            yield [format_cell(row[c]) for c in self.columns]

    def count(self) -> int:
        """How many rows there are, in one COUNT query."""
        return self.records.count()


#: rows read per round trip when a report is streamed whole
_CHUNK = 500

_DECISION_COLUMNS = (
    "case",
    "status",
    "borrower",
    "borrower_name",
    "group",
    "product",
    "requested",
    "currency",
    "exposure",
    "risk_relevant",
    "required_level",
    "escalation_level",
    "votes",
    "rating",
    "full_board",
    "flags",
    "justification",
    "decided_at",
)


def _decision_row(d: CreditDecision) -> dict[str, Any]:
    votes = "; ".join(
        f"{v['actor']} ({v['side']}, {v['level'] or '-'}, {v['stage']}): {v['decision']}"
        for v in d.votes
    )
    return {
        "case": d.case_id,
        "status": d.status,
        "borrower": d.borrower.number,
        "borrower_name": d.borrower.name,
        "group": d.group.name,
        "product": d.product,
        "requested": d.requested,
        "currency": d.currency,
        "exposure": d.exposure,
        "risk_relevant": d.risk_relevant,
        "required_level": d.required_level,
        "escalation_level": d.escalation_level,
        "votes": votes,
        "vote_list": d.votes,
        "rating": d.rating,
        "full_board": ", ".join(d.full_board),
        "flags": ", ".join(d.flags),
        "flag_list": d.flags,
        "justification": "; ".join(
            f"{v['actor']}: {v['justification']}" for v in d.votes if v.get("justification")
        ),
        "decided_at": d.decided_at,
    }


def _decisions() -> QuerySet[CreditDecision]:
    return CreditDecision.objects.select_related("borrower", "group")


#: decisions in the order their cases were opened (a case has one decision: unique)
_DECISION_ORDER = ("case_id",)


def get_decision_register(actor: Actor) -> Report[CreditDecision]:
    access_reports(actor)
    return Report(
        _("Credit decision register"),
        _(
            "Every credit case: exposure, risk relevance (CR-1), the level it needs (CR-3), "
            "the votes with their levels, the outcome and the flags (CR-6)."
        ),
        _DECISION_COLUMNS,
        _decisions(),
        _DECISION_ORDER,
        _decision_row,
    )


def _escalated() -> QuerySet[CreditDecision]:
    """Decisions that went to a higher level (CR-4), each with ``escalated_at``: when its
    case was first escalated (the case's ``escalated`` event)."""
    first = CaseEvent.objects.filter(case_id=OuterRef("case_id"), kind="escalated").order_by("at")
    return (
        _decisions()
        .exclude(escalation_level="")
        .annotate(escalated_at=Subquery(first.values("at")[:1]))
    )


def parse_month(text: str | None) -> date | None:
    """``2026-12`` as the first day of that month; anything else None."""
    try:
        return date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        return None


def _month_end(month: date) -> date:
    """The last day of ``month``."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def get_escalations(actor: Actor, month: date | None = None) -> Report[CreditDecision]:
    """CR-4 escalations; with ``month`` (#19, the dashboard's chart) only those escalated in
    that month of the bank's time zone."""
    access_reports(actor)
    records = _escalated()
    title = _("Escalations")
    if month is not None:
        low, high = _bounds(month, _month_end(month))
        records = records.filter(Q(escalated_at__gte=low) & Q(escalated_at__lt=high))
        title = _("Escalations in %(month)s") % {"month": f"{month:%Y-%m}"}
    return Report(
        title,
        _("Credit cases whose votes differed and that went to a higher level (CR-4)."),
        _DECISION_COLUMNS,
        records,
        _DECISION_ORDER,
        _decision_row,
    )


def escalations_by_month(actor: Actor) -> list[tuple[date, int]]:
    """#19: how many credit cases were escalated in each month (oldest first), in one query:
    the rows ``get_escalations(month=…)`` lists for that month."""
    access_reports(actor)
    tz = timezone.get_current_timezone()
    rows = (
        _escalated()
        .filter(Q(escalated_at__isnull=False))
        .annotate(month=TruncMonth("escalated_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return [(_as_date(row["month"]), row["n"]) for row in rows]


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def get_risk_report(actor: Actor, start: date, end: date) -> Report[CreditDecision]:
    """MaRisk BTO 1.1 Tz. 2: decisions against the votes and by the back office's board member."""
    access_reports(actor)
    if end < start:
        raise DomainError("input.invalid", "The period ends before it starts.")
    low, high = _bounds(start, end)
    flagged = _decisions().filter(Q(deviating_decision=True) | Q(back_office_board_decision=True))
    return Report(
        _("Risk report: flagged credit decisions %(start)s – %(end)s")
        % {"start": start.isoformat(), "end": end.isoformat()},
        _(
            "Decisions a board member took against the back-office vote (deviating_decision) "
            "and decisions of the board member responsible for the back office "
            "(back_office_board_decision), as MaRisk BTO 1.1 Tz. 2 asks (CR-6)."
        ),
        _DECISION_COLUMNS,
        flagged.filter(decided_at__gte=low, decided_at__lt=high),
        _DECISION_ORDER,
        _decision_row,
    )


_CREDIT_COLUMNS = (
    "credit",
    "case",
    "borrower",
    "borrower_name",
    "group",
    "product",
    "amount",
    "currency",
    "rating",
    "last_review",
    "review_due",
    "days_overdue",
    "stage",
    "case_lead",
)


def credit_row(c: Credit, today: date) -> dict[str, Any]:
    return {
        "credit": c.pk,
        "case": c.decision.case_id,
        "borrower": c.borrower.number,
        "borrower_name": c.borrower.name,
        "group": c.group.name,
        "product": c.product,
        "amount": c.amount,
        "currency": c.currency,
        "rating": c.rating,
        "last_review": c.last_review,
        "review_due": c.review_due,
        "days_overdue": max(0, (today - c.review_due).days),
        "stage": c.stage,
        "case_lead": c.case_lead.username if c.case_lead else "",
    }


def get_overdue_reviews(actor: Actor, today: date | None = None) -> Report[Credit]:
    """PROC-5: credits whose annual review is past due, the longest overdue first."""
    access_reports(actor)
    day = today or timezone.localdate()
    credits = Credit.objects.select_related("borrower", "group", "case_lead", "decision").filter(
        review_due__lt=day
    )
    return Report(
        _("Overdue credit reviews"),
        _(
            "Credits whose counterparty risk has not been reassessed within the review period "
            "(PROC-5, MaRisk BTO 1.2.2)."
        ),
        _CREDIT_COLUMNS,
        credits,
        ("review_due", "pk"),
        lambda c: credit_row(c, day),
    )


def format_cell(value: Any) -> str:
    """A cell's text, the same in the CSV and on the page (yes/no, ISO dates, lists)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Iterable) and not isinstance(value, str):
        return ", ".join(str(v) for v in value)
    return str(value)
