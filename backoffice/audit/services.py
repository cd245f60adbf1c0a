"""Appending to the audit chain, always inside the transaction of the change it records.

``record`` is the only writer of audit events; ``do_checkpoint`` the only writer of
checkpoints (and it records one event for each).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from django.utils import timezone

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.base.context import request_id_var
from backoffice.core.audit import GENESIS_HASH, ChainedEvent, event_hash, to_json_value
from backoffice.core.audit_sign import sign_checkpoint
from backoffice.core.errors import DomainError

__all__ = [
    "do_note_verification_export",
    "Entry",
    "collecting",
    "record_all",
    "AUDIT_LOCK_KEY",
    "CHECKPOINT_ACTION",
    "do_checkpoint",
    "do_record_denial",
    "do_refuse",
    "record",
    "register_mark",
    "register_listener",
    "request_id_var",
]


#: PostgreSQL advisory lock that serialises appends (and only appends) to the chain.
AUDIT_LOCK_KEY = 0x6261636B6F6666  # "backoff"

#: The action of the event each checkpoint writes.
CHECKPOINT_ACTION = "audit.checkpoint"


def _lock_chain() -> None:
    """Hold the chain's head until the transaction ends, so appends stay linear.

    PostgreSQL: a transaction-scoped advisory lock, which only appenders wait for; reads
    are never blocked. SQLite: every transaction already holds the write lock (IMMEDIATE).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are written only inside the transaction of their change")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])


@dataclass(frozen=True)
class Entry:
    """One event to append: what happened, to what, by whom, with before and after."""

    action: str
    actor: str
    object_type: str
    object_id: str | int
    before: Any = None
    after: Any = None
    reason: str = ""
    on_behalf_of: str = ""


_marks: list[Callable[[str], str]] = []


def register_mark(mark: Callable[[str], str]) -> None:
    """#15: ``mark(actor)`` says what every event of ``actor`` carries at the head of its
    reason now (``[emergency:7]`` while an emergency session runs), so what is done under
    emergency access is tagged on the chain itself, in a hashed field the chain already has.
    Registered by the app that knows (``access``); audit imports no app."""
    _marks.append(mark)


def _marked(entry: Entry, seen: dict[str, str]) -> str:
    if not _marks:
        return entry.reason
    if entry.actor not in seen:
        seen[entry.actor] = " ".join(m for m in (mark(entry.actor) for mark in _marks) if m)
    head = seen[entry.actor]
    if not head or entry.reason.startswith(head):
        return entry.reason
    return f"{head} {entry.reason}" if entry.reason else head


_HEAD = "SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1"


def _locked_head() -> tuple[int, str] | None:
    """The chain's head, read after its lock is taken (and held until the transaction ends).

    On PostgreSQL the lock and the read go in one round trip, two statements: the read is
    the second and sees every append committed before the lock was granted (#14: the lock
    is the chain's bottleneck, so nothing waits on it that need not).
    """
    if connection.vendor != "postgresql":
        _lock_chain()
        row = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        return (int(row[0]), str(row[1])) if row else None
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are written only inside the transaction of their change")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s); {_HEAD}", [AUDIT_LOCK_KEY])
        cursor.nextset()
        found = cursor.fetchone()
    return (int(found[0]), str(found[1])) if found else None


_listeners: list[Callable[[Sequence[AuditEvent]], None]] = []


def register_listener(listen: Callable[[Sequence[AuditEvent]], None]) -> None:
    """#18: an app that reports events outside (the outbox) sees every appended event, in
    the transaction that appends it, so its own rows commit with them or not at all."""
    _listeners.append(listen)


def record_all(entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append events to the chain in order, under one lock and in one statement; the
    caller's transaction commits or discards them with its change."""
    if not entries:
        return []
    marks: dict[str, str] = {}
    reasons = [_marked(entry, marks) for entry in entries]  # before the chain's lock
    head = _locked_head()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    at, request_id = timezone.now(), request_id_var.get()
    events = []
    for offset, (entry, reason) in enumerate(zip(entries, reasons, strict=True)):
        chained = ChainedEvent(
            seq=seq + offset,
            at=at,
            actor=entry.actor,
            on_behalf_of=entry.on_behalf_of,
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            before=to_json_value(entry.before),
            after=to_json_value(entry.after),
            reason=reason,
            request_id=request_id,
            prev_hash=prev_hash,
        )
        prev_hash = event_hash(chained)
        events.append(AuditEvent(hash=prev_hash, **chained.as_dict() | {"at": at}))
    created = AuditEvent.objects.bulk_create(events)
    for listen in _listeners:
        listen(created)
    return created


_collecting: contextvars.ContextVar[list[Entry] | None] = contextvars.ContextVar(
    "audit_collecting", default=None
)


@contextmanager
def collecting() -> Iterator[list[Entry]]:
    """Collect the events ``record`` is asked for instead of appending each at once, so the
    caller appends them with its own in one go (one lock, one head read, one insert). The
    caller must append what it collected in the same transaction (``record_all``); what a
    block that raises collected is dropped with it."""
    entries: list[Entry] = []
    token = _collecting.set(entries)
    try:
        yield entries
    finally:
        _collecting.reset(token)


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
    """Append one event to the chain; the caller's transaction commits or discards both.

    Inside ``collecting`` the event is only noted (the object returned is not saved).
    """
    entry = Entry(action, actor, object_type, object_id, before, after, reason, on_behalf_of)
    collected = _collecting.get()
    if collected is not None:
        collected.append(entry)
        return AuditEvent(action=action, actor=actor, object_type=object_type)
    return record_all([entry])[0]


def do_record_denial(
    action: str, *, actor: str, object_type: str, object_id: str | int, reason: str
) -> AuditEvent:
    """A refusal changes nothing but is itself on record, in a transaction of its own."""
    with transaction.atomic():
        return record(
            action, actor=actor, object_type=object_type, object_id=object_id, reason=reason
        )


def do_refuse(
    code: str, message: str, *, action: str, user: Any, object_type: str, object_id: str | int
) -> NoReturn:
    """Put a refusal on record (its own transaction), then raise it as ``code``."""
    who = user.get_username() if getattr(user, "is_authenticated", False) else "anonymous"
    do_record_denial(
        action, actor=who, object_type=object_type, object_id=object_id, reason=f"{code}: {message}"
    )
    raise DomainError(code, message)


def do_checkpoint(private_key: Ed25519PrivateKey, *, actor: str) -> Checkpoint | None:
    """Sign the chain's head; None when there is nothing new to sign.

    Nothing new: the log is empty, or its head is the event of the latest checkpoint
    (so a checkpoint on a schedule does not grow an idle log).
    """
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "action").first()
        if head is None:
            return None
        seq, digest, action = head
        latest = Checkpoint.objects.order_by("-seq", "-id").values_list("seq", flat=True).first()
        if action == CHECKPOINT_ACTION and latest == seq - 1:
            return None
        at = timezone.now()
        signed = sign_checkpoint(private_key, seq, digest, to_json_value(at))
        checkpoint = Checkpoint(
            seq=seq, hash=digest, at=at, key=signed.key, signature=signed.signature
        )
        checkpoint.save()
        record(
            CHECKPOINT_ACTION,
            actor=actor,
            object_type="checkpoint",
            object_id=checkpoint.pk,
            after={k: v for k, v in signed.as_record().items() if k != "kind"},
        )
        return checkpoint


def do_note_verification_export(actor: str, outcome: Any, file_format: str) -> None:
    """#19: who took a verification result out of the system as a file, and what it said:
    on the trail it verified, as every export of audit evidence is."""
    with transaction.atomic():
        record(
            "audit.verification.exported",
            actor=actor,
            object_type="audit",
            object_id="chain",
            after={
                "format": file_format,
                "intact": outcome.ok,
                "events": outcome.events,
                "head_seq": outcome.head_seq,
            },
        )
