"""After the decision: problem loans, provisions, reviews and who sets their criteria.

A credit's facts call for normal care, intensive care or workout (PROC-2, ``care_stage``),
led outside the market (PROC-2, ``check_case_lead``); significant provisions are proposed
and approved outside the market (PROC-3); the criteria and the rating scale are changed only
outside the market (PROC-1); counterparty risk is reassessed at least every so many months
(PROC-5, ``review_overdue``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from backoffice.core.actors import ActorFacts
from backoffice.core.credit.policy import CreditPolicy, CriteriaSpec, ProblemLoansSpec
from backoffice.core.errors import Denied
from backoffice.core.money import Money
from backoffice.core.org import Line


class CareStage(StrEnum):
    """BTO 1.2.4/1.2.5: normal care, intensive care, or workout (problem loan)."""

    NORMAL = "normal"
    INTENSIVE_CARE = "intensive_care"
    WORKOUT = "workout"


def care_stage(criteria: ProblemLoansSpec, days_past_due: int, forborne: bool) -> CareStage:
    """PROC-2: the stage a credit's facts call for; workout wins over intensive care."""

    def meets(spec: CriteriaSpec) -> bool:
        return days_past_due >= spec.days_past_due or (spec.forborne and forborne)

    if meets(criteria.workout):
        return CareStage.WORKOUT
    if meets(criteria.intensive_care):
        return CareStage.INTENSIVE_CARE
    return CareStage.NORMAL


def check_case_lead(lead: ActorFacts) -> Denied | None:
    """PROC-2: intensive care and workout are led outside the market (BTO 1.2.5)."""
    if Line.MARKET in lead.lines or Line.TRADING in lead.lines or not lead.lines:
        return Denied(
            "credit.case_lead_market",
            f"{lead.name or lead.person} works in the market (or in no unit); intensive care "
            "and workout are led outside the market (PROC-2, MaRisk BTO 1.2.5).",
        )
    return None


def check_provision(policy: CreditPolicy, amount: Money, actor: ActorFacts) -> Denied | None:
    """PROC-3: significant provisions are proposed and approved only outside the market."""
    limit = policy.provision_significance_limit.to_domain()
    significant = amount.currency != limit.currency or amount.amount >= limit.amount
    if significant and Line.MARKET in actor.lines:
        return Denied(
            "credit.provision_market",
            f"A provision of {amount} reaches the significance limit {limit}; it is proposed "
            "and approved outside the market (PROC-3, MaRisk BTO 1.1 Tz. 7).",
        )
    return None


def check_criteria_editor(
    live: CreditPolicy | None, proposed: CreditPolicy | None, actor: ActorFacts
) -> Denied | None:
    """PROC-1: intensive-care and workout criteria and the rating scale change outside market."""

    def owned(policy: CreditPolicy | None) -> Any:
        return None if policy is None else (policy.problem_loans, policy.ratings)

    if owned(live) != owned(proposed) and Line.MARKET in actor.lines:
        return Denied(
            "credit.criteria_market",
            "The change touches the problem-loan criteria or the rating scale; these are set "
            "and changed only outside the market (PROC-1, MaRisk BTO 1.2.4, BTO 1.4).",
        )
    return None


def review_overdue(last_review: date, months: int, today: date) -> bool:
    """PROC-5: the counterparty risk is reassessed at least every ``months`` months."""
    return today > add_months(last_review, months)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
