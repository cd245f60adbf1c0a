"""Reading the audit log: checked access, streaming for exports, verification, paging."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from django.db.models import Q, QuerySet

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.base.sorting import Sorting
from backoffice.core.audit import (
    CANONICAL,
    HASHED_FIELDS,
    NOT_FAST,
    CanonicalEvent,
    decode_json_value,
)
from backoffice.core.audit_sign import Checkpoint as SignedCheckpoint
from backoffice.core.audit_verify import (
    HashedEvents,
    Link,
    StoredEvent,
    Verification,
    interleave,
    verify_chain,
)
from backoffice.core.progress import Progress, counted

__all__ = [
    "AUDIT_SORTING",
    "AuditFilter",
    "AuditScope",
    "audit_scopes",
    "known_actions",
    "register_audit_scope",
    "access_audit_log",
    "get_event_page",
    "get_latest_checkpoint",
    "iter_checkpoints",
    "iter_stored_events",
    "verify_database",
]

_COLUMNS = (*HASHED_FIELDS, "hash")


def access_audit_log(actor: Actor, permission: str = "audit.read") -> QuerySet[AuditEvent]:
    """All events, for people whose roles grant ``permission`` (auditors, compliance).

    Anyone else is refused with ``audit.forbidden``, and the refusal is on record.
    """
    if permission not in actor.permissions:
        do_refuse(
            "audit.forbidden",
            "Only internal audit and compliance may read the audit trail.",
            action="audit.denied",
            user=actor.user,
            object_type="audit_log",
            object_id=permission,
        )
    return AuditEvent.objects.all()


#: #19: the audit list's sortable columns; newest first unless asked otherwise
AUDIT_SORTING = Sorting(
    AuditEvent,
    {
        "seq": ("seq",),
        "at": ("at",),
        "actor": ("actor",),
        "action": ("action",),
        "object": ("object_type", "object_id"),
    },
    ("-seq",),
    tiebreak="seq",
    descending_first=frozenset({"seq", "at"}),
)


@dataclass(frozen=True)
class AuditScope:
    """#19: a filter of the audit list that an app above this one knows how to apply (the
    cases app: the events of one process's cases). ``choices`` are (value, label) pairs for
    the page's select; ``narrow`` gives the condition on events for one picked value."""

    label: Any
    choices: Callable[[], list[tuple[str, str]]]
    narrow: Callable[[str], Q]


_scopes: dict[str, AuditScope] = {}


def register_audit_scope(name: str, scope: AuditScope) -> None:
    """Called from an ``AppConfig.ready``: the audit app does not import the apps above it."""
    _scopes[name] = scope


def audit_scopes() -> dict[str, AuditScope]:
    return dict(_scopes)


#: PostgreSQL's loose index scan: one index probe per distinct action, not a pass over
#: the whole index (``SELECT DISTINCT`` reads every entry of a trail of millions)
_DISTINCT_ACTIONS = """
WITH RECURSIVE found(action) AS (
    (SELECT action FROM {table} ORDER BY action LIMIT 1)
    UNION ALL
    SELECT (SELECT action FROM {table} WHERE action > found.action ORDER BY action LIMIT 1)
    FROM found WHERE found.action IS NOT NULL
)
SELECT action FROM found WHERE action IS NOT NULL
"""


def known_actions() -> list[str]:
    """#19: every action the trail holds, in order, for the filter's select."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(_DISTINCT_ACTIONS.format(table=table))
            return [row[0] for row in cursor.fetchall()]
    rows = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
    return list(rows)


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor narrows the log to; every field is optional."""

    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: registered scopes (``register_audit_scope``) by name, with the value picked
    scopes: tuple[tuple[str, str], ...] = ()

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        exact = {
            name: getattr(self, name)
            for name in ("action", "actor", "object_type", "object_id", "request_id")
            if getattr(self, name) is not None
        }
        events = events.filter(**exact)
        for name, value in self.scopes:
            scope = _scopes.get(name)
            if scope is not None:
                events = events.filter(scope.narrow(value))
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 still allows.
        if self.since is not None:
            events = events.filter(at__gte=_utc(self.since))
        if self.until is not None:
            events = events.filter(at__lt=_utc(self.until))
        return events


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 9999 with a negative offset lies beyond datetime.max
        return (
            datetime.max.replace(tzinfo=UTC)
            if moment.year > 1
            else datetime.min.replace(tzinfo=UTC)
        )


def get_event_page(
    events: QuerySet[AuditEvent], *, after: int | None, limit: int
) -> tuple[list[AuditEvent], int | None]:
    """One page in seq order after the cursor, and the cursor of the next page (None: last)."""
    if after is not None:
        events = events.filter(seq__gt=after)
    page = list(events.order_by("seq")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (page[-1].seq if more else None)


def iter_stored_events(
    events: QuerySet[AuditEvent] | None = None, *, chunk_size: int = 5000
) -> Generator[StoredEvent, None, None]:
    """Events in seq order as the verifier and the exports read them, in constant memory."""
    events = AuditEvent.objects.all() if events is None else events
    rows = events.order_by("seq").values_list(*_COLUMNS).iterator(chunk_size=chunk_size)
    for row in rows:
        fields = dict(zip(HASHED_FIELDS, row, strict=False))
        fields["at"] = fields["at"].astimezone(UTC).isoformat()
        yield StoredEvent(fields, row[-1])


def iter_checkpoints(
    from_seq: int = 1, to_seq: int | None = None, *, chunk_size: int = 5000
) -> Iterator[SignedCheckpoint]:
    checkpoints = Checkpoint.objects.filter(seq__gte=from_seq)
    if to_seq is not None:
        checkpoints = checkpoints.filter(seq__lte=to_seq)
    for row in checkpoints.order_by("seq", "id").iterator(chunk_size=chunk_size):
        yield row.to_core()


def get_latest_checkpoint() -> SignedCheckpoint | None:
    latest = Checkpoint.objects.order_by("-seq", "-id").first()
    return latest.to_core() if latest is not None else None


def verify_database(
    public_keys: Sequence[Ed25519PublicKey] = (),
    checkpoints: Iterable[SignedCheckpoint] = (),
    *,
    allow_empty: bool = False,
    progress: Progress | None = None,
    every: int = 1000,
) -> Verification:
    """Recompute the whole chain from the database, with its stored checkpoints.

    ``checkpoints`` are anchors kept outside the database (an auditor's copy), which also
    catch a tail cut off, or rewritten, together with the checkpoints stored beside it.
    On PostgreSQL the rows are streamed raw and hashed on the fast route (#14).
    ``progress`` (#19) is told how many events were read, every ``every`` events.
    """
    if connection.vendor != "postgresql":
        return verify_chain(
            counted(
                interleave(iter_stored_events(), iter_checkpoints()),
                progress,
                every=every,
                weight=_events_in,
            ),
            public_keys=public_keys,
            checkpoints=checkpoints,
            allow_empty=allow_empty,
        )
    with closing(_stream_trail()) as items:
        return verify_chain(
            counted(items, progress, every=every, weight=_events_in),
            public_keys=public_keys,
            checkpoints=checkpoints,
            allow_empty=allow_empty,
        )


def _events_in(item: StoredEvent | HashedEvents | SignedCheckpoint) -> int:
    """How many events an item of the trail is (a checkpoint is none)."""
    if isinstance(item, HashedEvents):
        return len(item.links)
    return 1 if isinstance(item, StoredEvent) else 0


def _utc_text(column: str) -> str:
    """``to_json_value`` of a timestamptz, in SQL: ``2026-01-01T09:00:00.037000+00:00``.

    Python's ``isoformat`` leaves out a fraction of zero; years outside 1..9999, which
    Python cannot hold (nor ``record`` write), come out as NULL (and then fail to match).
    The functions are named with their schema (``AT TIME ZONE`` is ``timezone()``): a
    function of the same name that someone put earlier on the search_path could otherwise
    show the verifier another time than the one stored. tests/audit/test_verify_fast.py
    holds it to ``isoformat`` on PostgreSQL.
    """
    utc = f"pg_catalog.timezone('UTC', {column})"
    return (
        f"CASE WHEN {column} >= '0001-01-01 00:00:00+00' AND {column} < '10000-01-01 00:00:00+00'"
        f" THEN pg_catalog.replace(pg_catalog.to_char({utc},"
        f" 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+') END"
    )


def _trail_sql() -> str:
    """Events and checkpoints in one statement (one snapshot), in seq order.

    Columns are those of ``CanonicalEvent``; a checkpoint row has its id (> 0) in the
    second column, its key in ``actor`` and its signature in ``reason``. Both halves have
    the same column types, so that PostgreSQL merges two index scans rather than sorting;
    rows of one seq come in any order (``_stream_trail`` puts them in place).
    """
    events = connection.ops.quote_name(AuditEvent._meta.db_table)
    checkpoints = connection.ops.quote_name(Checkpoint._meta.db_table)
    at = _utc_text("at")
    # S608: built from constants and the models' own table names, no input.
    return (
        f"SELECT seq, 0::bigint, action::text, actor::text, after::text, {at},"  # noqa: S608
        f" before::text, object_id::text, object_type::text, on_behalf_of::text,"
        f" prev_hash::text, reason, request_id::text, hash::text"
        f" FROM {events}"
        f" UNION ALL"
        f" SELECT seq, id, NULL, key::text, NULL, {at}, NULL, NULL, NULL, NULL, NULL,"
        f" signature::text, NULL, hash::text"
        f" FROM {checkpoints} WHERE seq >= 1"  # as iter_checkpoints()
        f" ORDER BY 1"
    )


_Rows = Generator[tuple[Any, ...], None, None]
#: Rows a round trip brings (libpq's chunked mode): the server works on while we hash.
_CHUNK = 2000
#: Events one run hands to the verifier at most.
_RUN = 1000


def _stream_trail() -> Generator[StoredEvent | HashedEvents | SignedCheckpoint, None, None]:
    """The trail as ``interleave(iter_stored_events(), iter_checkpoints())`` gives it, fast.

    Each event row is hashed on the fast route; those that match go out in runs. A row the
    fast route cannot hash, or whose hash does not match, goes out as the reference route
    reads it (``json.loads`` as Django's JSONField does), so the verifier finds what it
    would find there. Checkpoints wait for the next event (or the end) and go out before
    it in (seq, id) order: right after the last event at or past their seq, where
    ``interleave`` puts them.
    """
    connection.ensure_connection()
    sha256, encode_into, decode, event_of = (
        hashlib.sha256,
        CANONICAL.encode_into,
        decode_json_value,
        CanonicalEvent,
    )
    canonical = bytearray(1024)
    links: list[Link] = []
    waiting: list[tuple[int, int, SignedCheckpoint]] = []
    last_seq = -1
    with (
        connection.wrap_database_errors,  # psycopg's errors as Django's, as on every query
        psycopg.Cursor(connection.connection) as cursor,
        closing(cast(_Rows, cursor.stream(_trail_sql(), size=_CHUNK))) as rows,
    ):
        for row in rows:
            (
                seq, checkpoint, action, actor, after, at, before,
                object_id, object_type, on_behalf_of, prev_hash, reason, request_id, digest,
            ) = row  # fmt: skip
            if checkpoint:
                signed = SignedCheckpoint(seq, digest, at or "", actor, reason)
                waiting.append((seq, checkpoint, signed))
                continue
            if waiting and waiting[0][0] <= last_seq:  # they follow the event before this one
                if links:
                    yield HashedEvents(links)
                    links = []
                yield from _in_order(waiting, last_seq)
            last_seq = seq
            try:
                event = event_of(
                    action,
                    actor,
                    None if after is None else decode(after),
                    at,
                    None if before is None else decode(before),
                    object_id,
                    object_type,
                    on_behalf_of,
                    prev_hash,
                    reason,
                    request_id,
                    seq,
                )
                encode_into(event, canonical)
                hashed = sha256(canonical).hexdigest() == digest
            except NOT_FAST:
                hashed = False
            if hashed:
                links.append((seq, prev_hash, digest))
                if len(links) == _RUN:
                    yield HashedEvents(links)
                    links = []
            else:
                if links:
                    yield HashedEvents(links)
                    links = []
                yield StoredEvent(_reference_fields(row), digest)
        if links:
            yield HashedEvents(links)
        yield from _in_order(waiting, None)


def _in_order(
    waiting: list[tuple[int, int, SignedCheckpoint]], upto: int | None
) -> list[SignedCheckpoint]:
    """Take the waiting checkpoints up to seq ``upto`` (None: all) out, in (seq, id) order."""
    ready = sorted(item for item in waiting if upto is None or item[0] <= upto)
    waiting[:] = [item for item in waiting if upto is not None and item[0] > upto]
    return [checkpoint for _, _, checkpoint in ready]


def _reference_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    """An event row as ``iter_stored_events`` reads it: JSON as Django's JSONField loads it."""
    fields = dict(zip(_ROW_FIELDS, row, strict=True))
    for name in ("before", "after"):
        if fields[name] is not None:
            fields[name] = json.loads(fields[name])
    return {name: fields[name] for name in HASHED_FIELDS}


_ROW_FIELDS = (
    "seq",
    "checkpoint",
    "action",
    "actor",
    "after",
    "at",
    "before",
    "object_id",
    "object_type",
    "on_behalf_of",
    "prev_hash",
    "reason",
    "request_id",
    "hash",
)
