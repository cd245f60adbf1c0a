"""The append-only, hash-chained audit log (see ``backoffice.core.audit``) and its checkpoints.

Rows are only ever inserted, by ``audit.services``. The ORM refuses updates and deletes
here; triggers in the database refuse them for everyone else (``audit.guard``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from typing_extensions import override

from backoffice.core.audit import ChainedEvent, to_json_value
from backoffice.core.audit_sign import Checkpoint as SignedCheckpoint

__all__ = ["AppendOnlyError", "AuditEvent", "Checkpoint"]


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit row through the ORM."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"the audit trail is append-only: {what} is refused")


class AppendOnlyQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """No bulk ``update``/``delete``: the ORM half of the guard (the triggers are the other)."""

    @override
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    @override
    def delete(self) -> NoReturn:
        _refuse("delete")

    @override
    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("bulk_update")


class AppendOnlyModel(models.Model):
    """A row that is saved once and never again."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    @override
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse(f"saving {type(self).__name__} #{self.pk} again")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    @override
    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(f"deleting {type(self).__name__} #{self.pk}")


class AuditEvent(AppendOnlyModel):
    """One state change, who made it and why; never updated, never deleted.

    ``seq`` runs without gaps from 1; ``hash`` covers every other field plus ``prev_hash``.
    """

    seq = models.PositiveBigIntegerField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, db_index=True)
    on_behalf_of = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=128)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    @override
    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"

    def to_chained(self) -> ChainedEvent:
        return ChainedEvent(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            on_behalf_of=self.on_behalf_of,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            before=self.before,
            after=self.after,
            reason=self.reason,
            request_id=self.request_id,
            prev_hash=self.prev_hash,
        )


class Checkpoint(AppendOnlyModel):
    """The chain's head at ``at``, signed with Ed25519 (#4: truncation becomes detectable).

    ``key`` is the SHA-256 fingerprint of the public key; each checkpoint has its own
    ``audit.checkpoint`` event, written in the same transaction.
    """

    seq = models.PositiveBigIntegerField(db_index=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    key = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["seq", "id"]

    @override
    def __str__(self) -> str:
        return f"checkpoint of #{self.seq} at {self.at:%Y-%m-%d %H:%M:%S}"

    def to_core(self) -> SignedCheckpoint:
        return SignedCheckpoint(
            seq=self.seq,
            hash=self.hash,
            at=to_json_value(self.at),
            key=self.key,
            signature=self.signature,
        )
