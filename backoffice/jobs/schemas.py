"""API shapes of jobs (#19)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

__all__ = ["JobIn", "JobOut"]


class JobIn(Schema):
    """What to run; ``format``/``from``/``to``/``object`` as ``backoffice audit export``
    (``sod.analyze``: ``format`` as ``backoffice sod analyze --live``, as of today)."""

    kind: Literal["audit.verify", "audit.export", "sod.analyze"]
    format: Literal["jsonl", "csv", "ocel", "json", "html"] | None = Field(
        None, description="audit.export: jsonl, csv or ocel; sod.analyze: csv, json or html"
    )
    from_: str | None = Field(None, alias="from", description="a seq number or a date")
    to: str | None = Field(None, description="a seq number or a date")
    object: str | None = Field(None, description="TYPE:ID, such as case:42")


class JobOut(Schema):
    id: UUID
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    done: int = Field(description="units done: events checked, or events written")
    total: int | None = Field(description="units in all (null: not counted yet)")
    message: str
    outcome: dict[str, Any] | None = Field(description="the verification's verdict, or counts")
    result: str | None = Field(description="where to download the file, while it is kept")
    created: datetime
    started: datetime | None
    finished: datetime | None
