"""#18: a person's TOTP authenticator for local password logins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

__all__ = ["TotpDevice"]


class TotpDevice(models.Model):
    """One authenticator app per person (RFC 6238). ``confirmed_at`` is set once the person
    typed a first code from it; until then the login does not ask for it. ``last_step`` is
    the time step of the last code accepted: a code is never taken twice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    @override
    def __str__(self) -> str:
        return f"TOTP of {self.user}"
