"""API tokens: stored as SHA-256 digests, shown once, revocable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

__all__ = ["ApiToken"]


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its digest is stored (a leaked table is useless)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a token.")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    @override
    def __str__(self) -> str:
        return f"{self.prefix}… for {self.user}"
