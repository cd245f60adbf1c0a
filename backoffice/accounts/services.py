"""Creating and checking API tokens, audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from backoffice.accounts.models import ApiToken
from backoffice.audit.services import record

__all__ = [
    "TOKEN_PREFIX",
    "do_create_token",
    "do_record_login",
    "do_record_login_failure",
    "do_record_logout",
    "do_revoke_token",
    "get_user_by_token",
]

TOKEN_PREFIX = "bo_"  # noqa: S105 - a public marker, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(user: Any, *, name: str, actor: str) -> str:
    """Create a token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user, name=name, prefix=token[:10], digest=_digest(token)
        )
        record(
            "accounts.token.created",
            actor=actor,
            object_type="api_token",
            object_id=row.pk,
            after={"user": user.get_username(), "name": name, "prefix": row.prefix},
        )
    return token


def do_revoke_token(row: ApiToken, *, actor: str) -> None:
    with transaction.atomic():
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(
            "accounts.token.revoked",
            actor=actor,
            object_type="api_token",
            object_id=row.pk,
            before={"revoked": False},
            after={"revoked": True},
        )


def get_user_by_token(token: str) -> Any | None:
    """The active user a token belongs to, or None (unknown, revoked, inactive user)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used=now)
    return row.user


def do_record_login(user: Any) -> None:
    """#4: every login is on record (Django's ``user_logged_in``)."""
    username = user.get_username()
    with transaction.atomic():
        record("auth.login", actor=username, object_type="person", object_id=username)


def do_record_logout(user: Any | None) -> None:
    if user is None:  # the session had already expired
        return
    username = user.get_username()
    with transaction.atomic():
        record("auth.logout", actor=username, object_type="person", object_id=username)


def do_record_login_failure(username: str) -> None:
    """A failed login names the account tried, never what was typed as the password."""
    username = username[:128]
    with transaction.atomic():
        record(
            "auth.login_failed",
            actor="anonymous",
            object_type="person",
            object_id=username,
            reason="wrong username or password",
        )
