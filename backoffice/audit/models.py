"""The append-only, hash-chained audit log (see ``backoffice.core.audit``)."""

from __future__ import annotations

from django.db import models

from backoffice.core.audit import ChainedEvent

__all__ = ["AuditEvent"]


class AuditEvent(models.Model):
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
