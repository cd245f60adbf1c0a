"""Input and output shapes of the cases API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

__all__ = [
    "FieldOut",
    "StepOut",
    "ProcessOut",
    "CaseIn",
    "CaseAmendIn",
    "ActionIn",
    "ActionOut",
    "EventOut",
    "AggregateOut",
    "ApprovalsOut",
    "CaseSummaryOut",
    "CaseOut",
    "CasePageOut",
    "DelegationIn",
    "DelegationOut",
]


class FieldOut(Schema):
    name: str
    type: str
    label: str
    help: str
    required: bool
    choices: list[str]


class StepOut(Schema):
    id: str
    name: str
    action: str
    who: str
    authority: str | None
    tiers: list[dict[str, Any]]


class ProcessOut(Schema):
    key: str
    name: str
    description: str
    starter: str
    payload: list[FieldOut]
    steps: list[StepOut]


class CaseIn(Schema):
    process: str = Field(description="The key of the process, e.g. payment-release.")
    payload: dict[str, Any]
    submit: bool = Field(False, description="Submit for checking right away.")
    comment: str = ""


class CaseAmendIn(Schema):
    payload: dict[str, Any]
    comment: str = ""


ActionName = Literal["submit", "approve", "release", "reject", "return", "withdraw", "comment"]


class ActionIn(Schema):
    action: ActionName
    comment: str = ""
    on_behalf_of: str | None = Field(None, description="Act as the substitute of this person.")
    payload_hash: str | None = Field(
        None, description="The payload version you looked at; refused if it changed since."
    )


class ActionOut(Schema):
    action: str
    allowed: bool
    on_behalf_of: str | None
    code: str | None
    reason: str


class EventOut(Schema):
    seq: int
    at: datetime
    kind: str
    actor: str
    on_behalf_of: str | None
    step: str | None
    payload_hash: str | None
    comment: str
    board: bool
    tier: str
    covers_current_payload: bool
    #: an approval that counts now: given in the current round for the current payload
    counts: bool = False
    denial: dict[str, Any] | None
    audit_seq: int | None


class AggregateOut(Schema):
    """#13: the related cases the tier was picked with (the process's ``aggregate``)."""

    by: str
    value: Any
    window: str
    others: list[int]
    total: Decimal
    currency: str
    note: str


class ApprovalsOut(Schema):
    step: str
    step_name: str
    tier: str
    needed: int
    board_needed: int
    given: int
    board_given: int
    aggregate: AggregateOut | None = None


class CaseSummaryOut(Schema):
    id: int
    process: str
    title: str
    status: str
    step: str | None
    maker: str
    amount: Decimal | None
    currency: str
    created: datetime
    last_updated: datetime


class CaseOut(CaseSummaryOut):
    payload: dict[str, Any]
    payload_hash: str
    version: int
    approvals: ApprovalsOut | None
    preview: dict[str, Any] | None
    timeline: list[EventOut]
    actions: list[ActionOut]


class CasePageOut(Schema):
    items: list[CaseSummaryOut]
    next_cursor: int | None


class DelegationIn(Schema):
    substitute: str
    valid_from: date
    valid_to: date = Field(description="The first day the delegation no longer holds.")
    reason: str = ""


class DelegationOut(Schema):
    id: int
    principal: str
    substitute: str
    valid_from: date
    valid_to: date
    reason: str
    ended: bool
