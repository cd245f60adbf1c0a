"""Login throttling: after too many failures for one user name, even the right password waits.

The backend enforces it on every login path (the site and the admin); the login form says
why. Failures are recorded from Django's ``user_login_failed`` signal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.accounts.backends import PersonBackend
from backoffice.web.models import FailedLogin

__all__ = ["MAX_FAILURES", "WINDOW", "is_throttled", "ThrottledModelBackend", "ThrottledLoginForm"]

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def is_throttled(username: str | None) -> bool:
    if not username:
        return False
    since = timezone.now() - WINDOW
    return (
        FailedLogin.objects.filter(username=username.lower(), at__gte=since).count() >= MAX_FAILURES
    )


@receiver(user_login_failed)
def _record_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150].lower()
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    FailedLogin.objects.create(username=username, ip=ip, at=timezone.now())


class ThrottledModelBackend(PersonBackend):  # #13: no Django permissions, no superuser
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if is_throttled(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ThrottledLoginForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        if is_throttled(self.data.get("username")):
            raise ValidationError(
                _("Too many failed attempts for this user name. Try again in %(minutes)s minutes."),
                code="throttled",
                params={"minutes": int(WINDOW.total_seconds() // 60)},
            )
        return super().clean()
