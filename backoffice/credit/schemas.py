"""Input and output shapes of the credit API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from backoffice.cases.schemas import ActionOut, CaseSummaryOut

__all__ = [
    "VoteIn",
    "DecisionIn",
    "CloseIn",
    "ControlIn",
    "VoteOut",
    "AssessmentOut",
    "CreditCaseOut",
    "DecisionRowOut",
    "CreditRowOut",
    "StatusIn",
    "CaseLeadIn",
    "ProvisionIn",
    "ProvisionOut",
    "ReviewIn",
    "BorrowerOut",
]


class VoteIn(Schema):
    decision: Literal["approve", "reject"]
    rationale: str = Field(description="Why you vote so; every vote has one.")
    rating: str | None = Field(
        None,
        description="A grade of the policy's scale: a proposal from the market, binding from "
        "the back office in risk-relevant business (PROC-4, required there).",
    )
    side: Literal["market", "back_office"] | None = Field(
        None, description="Only for someone deployed in both lines (ORG-3)."
    )
    payload_hash: str | None = Field(None, description="The case version you looked at.")


class DecisionIn(Schema):
    decision: Literal["approve", "reject"]
    rationale: str
    justification: str = Field(
        "",
        description="Required when a board member decides against the back-office vote (CR-6).",
    )
    rating: str | None = None
    payload_hash: str | None = None


class CloseIn(Schema):
    comment: str = ""


class ControlIn(Schema):
    finding: str = Field(description="What the processing control found (PROC-6).")


class VoteOut(Schema):
    actor: str
    stage: str
    side: str
    level: str | None
    decision: str
    rating: str | None
    rationale: str
    kind: Literal["vote", "decision"]
    #: CR-6: a board member's reason for deciding against the back-office vote
    justification: str = ""


class AssessmentOut(Schema):
    requested: Decimal
    existing_exposure: Decimal
    exposure: Decimal
    currency: str
    risk_relevant: bool
    relevance: str
    required_level: str
    required_level_name: str
    back_office_vote: bool
    full_board: list[str]


class CreditCaseOut(CaseSummaryOut):
    borrower: str
    borrower_name: str
    group: str
    product: str
    stage: str | None
    assessment: AssessmentOut | None
    escalation_level: str | None
    votes: list[VoteOut]
    rating: str | None
    flags: list[str]
    controlled_by: list[str]
    actions: list[ActionOut]


class DecisionRowOut(Schema):
    case: int
    status: str
    borrower: str
    borrower_name: str
    group: str
    product: str
    requested: Decimal
    currency: str
    exposure: Decimal | None
    risk_relevant: bool | None
    required_level: str
    escalation_level: str
    vote_list: list[dict[str, str | None]]
    rating: str
    full_board: str
    flag_list: list[str]
    decided_at: datetime | None


class CreditRowOut(Schema):
    credit: int
    case: int
    borrower: str
    borrower_name: str
    group: str
    product: str
    amount: Decimal
    currency: str
    rating: str
    last_review: date
    review_due: date
    days_overdue: int
    stage: str
    case_lead: str


class StatusIn(Schema):
    days_past_due: int = Field(ge=0, le=36500)
    forborne: bool = False


class CaseLeadIn(Schema):
    lead: str


class ProvisionIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    reason: str


class ProvisionOut(Schema):
    id: int
    credit: int
    amount: Decimal
    currency: str
    reason: str
    proposed_by: str
    approved_by: str


class ReviewIn(Schema):
    rating: str
    comment: str


class BorrowerOut(Schema):
    number: str
    name: str
    group: str
    group_name: str
    insider: bool
