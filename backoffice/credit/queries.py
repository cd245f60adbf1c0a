"""Checked reads of the credit registers and reports (API, CSV and HTML share them).

Reports are for people with ``reports.read`` (board, risk control, compliance, internal
audit); everyone else gets the same refusal, ``reports.forbidden``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.core import csvsafe
from backoffice.core.errors import DomainError
from backoffice.credit.models import Borrower, Credit, CreditDecision

__all__ = [
    "REPORTS_PERMISSION",
    "Report",
    "access_reports",
    "access_credit_by_id",
    "get_borrowers",
    "get_decision_register",
    "get_escalations",
    "get_risk_report",
    "get_overdue_reviews",
    "to_csv",
    "format_cell",
    "credit_row",
]

REPORTS_PERMISSION = "reports.read"


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


@dataclass(frozen=True)
class Report:
    """A table: the API returns ``rows``, CSV and HTML show ``columns`` in this order."""

    title: str
    description: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)


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
        "decided_at": d.decided_at,
    }


def _decisions() -> QuerySet[CreditDecision]:
    return CreditDecision.objects.select_related("borrower", "group").order_by("case_id")


def get_decision_register(actor: Actor) -> Report:
    access_reports(actor)
    return Report(
        "Credit decision register",
        "Every credit case: exposure, risk relevance (CR-1), the level it needs (CR-3), the "
        "votes with their levels, the outcome and the flags (CR-6).",
        _DECISION_COLUMNS,
        [_decision_row(d) for d in _decisions()],
    )


def get_escalations(actor: Actor) -> Report:
    access_reports(actor)
    return Report(
        "Escalations",
        "Credit cases whose votes differed and that went to a higher level (CR-4).",
        _DECISION_COLUMNS,
        [_decision_row(d) for d in _decisions().exclude(escalation_level="")],
    )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def get_risk_report(actor: Actor, start: date, end: date) -> Report:
    """MaRisk BTO 1.1 Tz. 2: decisions against the votes and by the back office's board member."""
    access_reports(actor)
    if end < start:
        raise DomainError("input.invalid", "The period ends before it starts.")
    low, high = _bounds(start, end)
    flagged = _decisions().filter(Q(deviating_decision=True) | Q(back_office_board_decision=True))
    rows = [_decision_row(d) for d in flagged.filter(decided_at__gte=low, decided_at__lt=high)]
    return Report(
        f"Risk report: flagged credit decisions {start.isoformat()} – {end.isoformat()}",
        "Decisions a board member took against the back-office vote (deviating_decision) and "
        "decisions of the board member responsible for the back office "
        "(back_office_board_decision), as MaRisk BTO 1.1 Tz. 2 asks (CR-6).",
        _DECISION_COLUMNS,
        rows,
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


def get_overdue_reviews(actor: Actor, today: date | None = None) -> Report:
    """PROC-5: credits whose annual review is past due."""
    access_reports(actor)
    today = today or timezone.localdate()
    credits = (
        Credit.objects.select_related("borrower", "group", "case_lead", "decision")
        .filter(review_due__lt=today)
        .order_by("review_due", "pk")
    )
    return Report(
        "Overdue credit reviews",
        "Credits whose counterparty risk has not been reassessed within the review period "
        "(PROC-5, MaRisk BTO 1.2.2).",
        _CREDIT_COLUMNS,
        [credit_row(c, today) for c in credits],
    )


def to_csv(report: Report) -> str:
    """The report as CSV (UTF-8, header row), columns as ``report.columns`` lists them."""
    out = io.StringIO()
    writer = csvsafe.writer(out)  # formulas defused (CSV injection)
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow(format_cell(row[c]) for c in report.columns)
    return out.getvalue()


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Iterable) and not isinstance(value, str):
        return ", ".join(str(v) for v in value)
    return str(value)
