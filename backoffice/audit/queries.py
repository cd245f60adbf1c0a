"""Reading the audit log: checked access, streaming for exports, verification, paging."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db.models import QuerySet

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.core.audit import HASHED_FIELDS
from backoffice.core.audit_sign import Checkpoint as SignedCheckpoint
from backoffice.core.audit_verify import StoredEvent, Verification, interleave, verify_chain

__all__ = [
    "AuditFilter",
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

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        exact = {
            name: getattr(self, name)
            for name in ("action", "actor", "object_type", "object_id", "request_id")
            if getattr(self, name) is not None
        }
        events = events.filter(**exact)
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
) -> Iterator[StoredEvent]:
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
) -> Verification:
    """Recompute the whole chain from the database, with its stored checkpoints.

    ``checkpoints`` are anchors kept outside the database (an auditor's copy), which also
    catch a tail cut off, or rewritten, together with the checkpoints stored beside it.
    """
    return verify_chain(
        interleave(iter_stored_events(), iter_checkpoints()),
        public_keys=public_keys,
        checkpoints=checkpoints,
        allow_empty=allow_empty,
    )
