"""Logging in: Django's password check behind django-axes' lock-out (#13).

Axes (``AxesStandaloneBackend``, first in ``AUTHENTICATION_BACKENDS``) refuses a user name
from a client address after ``AXES_FAILURE_LIMIT`` wrong passwords from that same address
within ``AXES_COOLOFF_TIME``; every login path (the site, the admin) goes through it. The
login page then says why, without telling whether the account exists: any name locks the
same way. Records of attempts are purged after ``LOGIN_RECORDS_RETENTION``, now and then
on a failed login and by ``backoffice logins purge``.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

__all__ = ["LoginForm", "lockout_response", "PURGE_EVERY_SECONDS"]

#: A failed login purges old records at most this often per process (a cheap moment:
#: the login page is slow on purpose anyway, and no scheduler is needed).
PURGE_EVERY_SECONDS = 3600.0
_last_purge: float | None = None

LOCKED_OUT = _(
    "Too many failed attempts for this user name from your address. Try again in "
    "%(minutes)s minutes, or ask an administrator to lift the lock."
)


def _minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def _lockout_message() -> str:
    return gettext(LOCKED_OUT) % {"minutes": _minutes()}


class LoginForm(AuthenticationForm):
    """Django's login form; when axes refused the attempt, it says so instead of
    "wrong password" (axes marks the request ``axes_locked_out``)."""

    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, "axes_locked_out", False):
            return ValidationError(LOCKED_OUT, code="locked_out", params={"minutes": _minutes()})
        return super().get_invalid_login_error()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, *args: Any
) -> HttpResponse:
    """What axes answers a locked-out login with: the login page saying why (429), not a
    bare 403. Our login page already carries the message (``LoginForm``); any other login
    path (the admin's) gets our login page with it."""
    match = getattr(request, "resolver_match", None)
    if isinstance(original_response, TemplateResponse) and match and match.view_name == "login":
        original_response.status_code = 429
        return original_response
    context = {"form": LoginForm(request), "lockout": _lockout_message()}
    return render(request, "registration/login.html", context, status=429)


@receiver(user_login_failed, dispatch_uid="logins-retention")
def _purge_now_and_then(sender: Any, **kwargs: Any) -> None:
    """On a failed login, purge expired login records if this process has not for an hour.

    Several web nodes each do so; the purge is idempotent, so that only costs a query.
    """
    global _last_purge
    now = time.monotonic()
    if _last_purge is not None and now - _last_purge < PURGE_EVERY_SECONDS:
        return
    _last_purge = now
    from backoffice.web.services import SYSTEM_ACTOR, do_purge_login_records

    do_purge_login_records(actor=SYSTEM_ACTOR)
