"""Model bases every app uses, and the one table no single app owns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

__all__ = ["TimeStamped", "IdempotencyRecord"]


class TimeStamped(models.Model):
    """``created`` and ``last_updated``, kept by Django (STYLE: one mixin for both)."""

    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a POST with an ``Idempotency-Key``; a retry gets it again.

    The table keeps the name it had when the cases app owned it (moved state only).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cases_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="cases_idempotencyrecord_key")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
