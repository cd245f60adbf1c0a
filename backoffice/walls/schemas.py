"""API shapes of the Chinese walls. The report shapes are also the CSV columns."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from backoffice.core.walls import Kind

__all__ = [
    "IssuerOut",
    "RestrictedEntryOut",
    "WatchEntryOut",
    "ListEntryIn",
    "ReasonIn",
    "ProjectOut",
    "MemberIn",
    "InsiderOut",
    "InsidersOut",
    "CrossingOut",
    "DenialOut",
    "DocumentIn",
    "DocumentSummaryOut",
    "DocumentOut",
    "HistoryResetIn",
    "HistoryResetOut",
]


class IssuerOut(Schema):
    key: str
    name: str
    conflict_class: str
    conflict_class_name: str


class RestrictedEntryOut(Schema):
    """CW-3: visible firm-wide; why an issuer is restricted is not."""

    issuer: str
    issuer_name: str
    since: datetime


class WatchEntryOut(Schema):
    """CW-4: confidential, for compliance only."""

    id: int
    list: str
    issuer: str
    issuer_name: str
    conflict_class: str
    project: str | None
    since: datetime
    reason: str
    added_by: str


class ListEntryIn(Schema):
    issuer: str
    reason: str = Field(description="Why, for the record.")


class ReasonIn(Schema):
    reason: str = Field(description="Why, for the record.")


class ProjectOut(Schema):
    key: str
    name: str
    issuer: str
    issuer_name: str
    area: str
    mandate: str
    status: str
    lead: str
    created: datetime
    announced_at: datetime | None
    closed_at: datetime | None
    insiders_now: int


class MemberIn(Schema):
    person: str
    reason: str


class InsiderOut(Schema):
    """One line of a project's insider list (MAR Art. 18): who, since when, why."""

    person: str
    name: str
    how: str = Field(description="'member' of the deal team or brought over by a 'crossing'")
    since: datetime
    until: datetime | None
    reason: str
    approved_by: str
    active: bool


class InsidersOut(Schema):
    items: list[InsiderOut]


class CrossingOut(Schema):
    id: int
    person: str
    name: str
    project: str
    issuer: str
    valid_from: datetime
    valid_to: datetime
    state: str = Field(description="'active', 'expired' or 'ended' (early, by compliance)")
    ended_at: datetime | None
    end_reason: str
    reason: str
    requested_by: str
    approved_by: str
    case: int | None


class DenialOut(Schema):
    """A refused read or action, from the audit trail."""

    seq: int
    at: datetime
    actor: str
    action: str
    object: str
    code: str
    message: str


class DocumentIn(Schema):
    issuer: str
    area: str
    kind: Kind
    title: str
    body: str


class DocumentSummaryOut(Schema):
    id: int
    issuer: str
    area: str
    kind: str
    title: str
    author: str
    created: datetime


class DocumentOut(DocumentSummaryOut):
    body: str


class HistoryResetIn(Schema):
    conflict_class: str
    reason: str


class HistoryResetOut(Schema):
    person: str
    conflict_class: str
    reset: int


# -- #17 research publication, personal account dealing --------------------------------------


class FactCheckOut(Schema):
    """RES-2: what went to the issuer: headline and text, never rating, target, valuation."""

    id: int
    case: int
    issuer: str
    headline: str
    body: str
    sent_by: str
    sent_at: datetime


class PadOrderIn(Schema):
    issuer: str = Field(description="The issuer's id, as in the walls section of the policy")
    side: str = Field(description="'buy' or 'sell'")
    quantity: int = Field(ge=1)


class PadOrderOut(Schema):
    """An employee's own order as they see it: a watch-list hit is not theirs to learn."""

    id: int
    issuer: str
    issuer_name: str
    side: str
    quantity: int
    placed_at: datetime
    status: str = Field(description="'executed', 'blocked' or 'cleared' (PAD-3)")
    code: str = Field(description="Why it was blocked (pad.restricted, pad.holding_period, …)")
    message: str
    cleared_by: str
    cleared_at: datetime | None


class PadOrderControlOut(PadOrderOut):
    """Compliance's view: whose order, and whether it alerted compliance (PAD-2)."""

    employee: str
    alerted: bool
    clearance_case: int | None


class PadClearanceIn(Schema):
    reason: str = Field(description="Why this one order may go through, for the record.")


class CaseRefOut(Schema):
    case: int


class AttestationIn(Schema):
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)


class AttestationOut(Schema):
    employee: str
    year: int
    quarter: int
    orders: int
    attested_at: datetime


class AttestationRowOut(Schema):
    """One employee in the quarter's attestation report."""

    employee: str
    name: str
    year: int
    quarter: int
    orders: int
    executed: int
    blocked: int
    cleared: int
    alerts: int
    attested_at: datetime | None


class QuarterIn(Schema):
    """``?year=&quarter=``; without them, the current quarter."""

    year: int | None = Field(None, ge=2000, le=2100)
    quarter: int | None = Field(None, ge=1, le=4)
