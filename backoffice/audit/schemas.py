"""API shapes of the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

__all__ = ["AuditEventOut", "AuditFilterIn", "AuditPageOut", "ProblemOut", "VerificationOut"]


class AuditFilterIn(Schema):
    """Query parameters of ``GET /audit``; ``after`` is the cursor (a seq number)."""

    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    request_id: str | None = None
    since: datetime | None = Field(None, description="events at or after this time")
    until: datetime | None = Field(None, description="events before this time")
    after: int | None = Field(None, ge=0, description="cursor: events after this seq")
    limit: int = Field(100, ge=1, le=1000)


class AuditEventOut(Schema):
    seq: int
    at: datetime
    actor: str
    on_behalf_of: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    reason: str
    request_id: str
    prev_hash: str
    hash: str


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next: int | None = Field(description="pass as `after` for the next page; null on the last")


class ProblemOut(Schema):
    kind: str = Field(description="modified, missing, reordered, truncated, forged or empty")
    seq: int | None
    message: str


class VerificationOut(Schema):
    ok: bool
    events: int
    first_seq: int
    head_seq: int
    head_hash: str
    checkpoints: int = Field(description="signed checkpoints that matched the chain")
    problem: ProblemOut | None
    notes: list[str]
