"""Failed logins, kept to throttle password guessing (per user name, on every login path)."""

from __future__ import annotations

from django.db import models

__all__ = ["FailedLogin"]


class FailedLogin(models.Model):
    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} at {self.at}"
