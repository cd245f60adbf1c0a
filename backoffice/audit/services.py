"""Appending to the audit chain, always inside the transaction of the change it records."""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import connection
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.core.audit import GENESIS_HASH, ChainedEvent, event_hash, to_json_value

__all__ = ["record", "request_id_var", "AUDIT_LOCK_KEY"]

#: Set by the request middleware so every event of one request carries its id.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

#: PostgreSQL advisory lock that serialises appends (and only appends) to the chain.
AUDIT_LOCK_KEY = 0x6261636B6F6666  # "backoff"


def record(
    action: str,
    *,
    actor: str,
    object_type: str,
    object_id: str | int,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    on_behalf_of: str = "",
) -> AuditEvent:
    """Append one event to the chain; the caller's transaction commits or discards both."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are written only inside the transaction of their change")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    chained = ChainedEvent(
        seq=seq,
        at=timezone.now(),
        actor=actor,
        on_behalf_of=on_behalf_of,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=to_json_value(before),
        after=to_json_value(after),
        reason=reason,
        request_id=request_id_var.get(),
        prev_hash=prev_hash,
    )
    event = AuditEvent(hash=event_hash(chained), **chained.as_dict() | {"at": chained.at})
    event.save(force_insert=True)
    return event
