"""Access governance for people who ask: what-if simulations and the mitigation report.

Authorisation is here, not in the views: reading access risks needs ``access.risk.read``;
anyone else is refused with ``access.forbidden``, and the refusal is on record.
"""

from __future__ import annotations

import bisect
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from backoffice.access.effects import period_view
from backoffice.access.models import Mitigation
from backoffice.access.queries import (
    EXPIRING_DAYS,
    get_access_rules,
    get_grant_assessment_over,
    get_held_roles,
    get_mitigations,
)
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.base.pages import PAGE_SIZE, Page, decode_cursor, encode_cursor, keyset
from backoffice.core.accessrisk import UnknownRole
from backoffice.core.errors import DomainError

__all__ = [
    "READ_PERMISSION",
    "may_read_access",
    "access_risks",
    "get_simulation",
    "MITIGATION_ORDER",
    "MitigationReport",
    "get_mitigation_report",
    "ActualConflicts",
    "get_actual_conflicts",
]

READ_PERMISSION = "access.risk.read"


def may_read_access(actor: Actor) -> bool:
    return READ_PERMISSION in actor.permissions


def access_risks(actor: Actor, what: str) -> None:
    """Refuse (and record) anyone without ``access.risk.read``."""
    if may_read_access(actor):
        return
    do_refuse(
        "access.forbidden",
        f"Only compliance, audit and administrators may see {what}.",
        action="access.denied",
        user=actor.user,
        object_type="access",
        object_id=what,
    )


def get_simulation(
    actor: Actor,
    person: str,
    add: list[str],
    remove: list[str],
    day: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """What-if (#6): the risks ``person`` gains and loses with ``add`` and without ``remove``,
    each with the roles and permissions behind it, and any SSD constraint it would break.

    Judged as a grant is (#13): from ``day`` until ``until`` (open-ended without), on every
    day the person's other assignments or mitigations change; the worst day is shown."""
    access_risks(actor, "access simulations")
    rules = get_access_rules()
    if rules is None:
        raise DomainError("access.unknown_risk", "The live policy has no access rules.")
    subject = get_user_model().objects.filter(username=person).first()
    if subject is None:
        raise DomainError(
            "access.unknown_person",
            f"There is no person {person!r}.",
            errors=[{"field": "person", "message": "unknown person"}],
        )
    day = day or timezone.localdate()
    try:
        period = get_grant_assessment_over(subject, add, day, until, remove)
    except UnknownRole as exc:
        raise DomainError(
            "access.unknown_role",
            f"There is no role {exc.role_id!r}.",
            errors=[
                {
                    "field": "add_roles" if exc.role_id in add else "remove_roles",
                    "message": "unknown role",
                }
            ],
        ) from None
    assert period is not None
    refusal = period.refusal
    worst = period.worst.day
    held = sorted(get_held_roles(subject, worst))
    return {
        "person": person,
        "as_of": day,
        "until": until,
        "roles_before": held,
        "roles_after": sorted((set(held) | set(add)) - set(remove)),
        **period_view(period, rules),
        "unmitigated_risk": period.risk,
        "verdict": refusal[0]
        if refusal
        else ("second_level" if period.risk != "none" else "clear"),
        "message": refusal[1] if refusal else "",
    }


#: soonest end first, then by person and risk; the pk orders one person's controls of a risk
MITIGATION_ORDER = ("valid_until", "person__username", "risk", "pk")


@dataclass(frozen=True)
class MitigationReport:
    """The mitigations of one status, read a page at a time (API, page) or all (CSV).

    It holds the query, not the rows: the list grows with every mitigation ever granted.
    """

    records: QuerySet[Mitigation]
    day: date
    risk_names: dict[str, str]

    def row(self, m: Mitigation) -> dict[str, Any]:
        """A mitigation with its risk's name and its state on ``day``."""
        return m.as_record() | {
            "risk_name": self.risk_names.get(m.risk, ""),
            "state": _state(m.valid_from, m.valid_until, self.day),
            "case": m.case_id,
        }

    def page(self, after: str | None, limit: int = PAGE_SIZE) -> Page[dict[str, Any]]:
        """The ``limit`` rows after the cursor ``after`` (a bad cursor: ``input.invalid``)."""
        return self.shown(keyset(self.records, MITIGATION_ORDER, after, limit))

    def shown(self, page: Page[Mitigation]) -> Page[dict[str, Any]]:
        return Page([self.row(m) for m in page.items], page.next)

    def all_rows(self) -> Iterator[dict[str, Any]]:
        """Every row in order, read in chunks while the caller writes them out."""
        for m in self.records.order_by(*MITIGATION_ORDER).iterator(chunk_size=500):
            yield self.row(m)


def get_mitigation_report(
    actor: Actor, status: str = "all", day: date | None = None
) -> MitigationReport:
    """Mitigations with their state on ``day`` (active, expiring within 30 days, expired).

    The check is made here, before any row is read, so a refusal is an answer of its own and
    never the middle of a streamed download."""
    access_risks(actor, "mitigations")
    day = day or timezone.localdate()
    rules = get_access_rules()
    names = {k: r.name for k, r in rules.risks.items()} if rules else {}
    return MitigationReport(get_mitigations(status, day), day, names)


def _state(start: date, until: date, day: date) -> str:
    if until < day:
        return "expired"
    if start > day:
        return "future"
    return "expiring" if (until - day).days < EXPIRING_DAYS else "active"


@dataclass(frozen=True)
class ActualConflicts:
    """The actual conflicts of Backoffice's own people (#15), sorted by user, risk, kind,
    object; a page at a time for the API, all rows for CSV."""

    rows: list[dict[str, Any]]

    KEY = ("user_id", "risk_id", "kind", "object")

    def page(self, after: str | None, limit: int) -> Page[dict[str, Any]]:
        start = 0
        if after is not None:
            wanted = tuple(decode_cursor(after, len(self.KEY)))
            keys = [tuple(row[k] for k in self.KEY) for row in self.rows]
            start = bisect.bisect_right(keys, wanted)
        items = self.rows[start : start + limit]
        more = start + limit < len(self.rows)
        return Page(items, encode_cursor([items[-1][k] for k in self.KEY]) if more else None)


def get_actual_conflicts(
    actor: Actor, window_days: int = 30, day: date | None = None
) -> ActualConflicts:
    """``sod actual --live`` for the API and the page: the live rule set and people, the
    whole audit trail, the policy's actions of each function. Checked before anything is
    read, like the mitigation report."""
    access_risks(actor, "actual conflicts")
    day = day or timezone.localdate()
    from backoffice.access.export import write_live_folder
    from backoffice.audit.exports import ExportScope, export_log
    from backoffice.core.accessrisk.actual import analyze_actual
    from backoffice.sod_actual_report import actual_table

    with tempfile.TemporaryDirectory(prefix="backoffice-actual-") as scratch:
        folder = Path(scratch)
        try:
            write_live_folder(folder, day)
        except LookupError:
            return ActualConflicts([])
        trail = folder / "audit-trail.json"
        with open(trail, "w", encoding="utf-8") as handle:
            export_log(handle, "ocel", ExportScope())
        report = analyze_actual(folder, [trail], day, window_days * 86_400_000_000)
        return ActualConflicts(actual_table(report).to_pylist())
