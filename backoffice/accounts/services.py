"""Credentials: API tokens, passwords and set-password links, each change on the audit chain.

#13: a person changes only their own credentials here (the current password for a new
one, their own tokens). Everything one person does to another's login goes through a
four-eyes ``user-admin`` case (``accounts.effects``), and a new credential for someone else
is sent to that person's e-mail address, never shown to whoever asked or released it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from backoffice.accounts.models import ApiToken
from backoffice.audit.services import record
from backoffice.base.references import Directory
from backoffice.core.errors import DomainError

__all__ = [
    "TOKEN_PREFIX",
    "do_change_own_password",
    "do_create_own_token",
    "do_create_token",
    "do_record_login",
    "do_record_login_failure",
    "do_record_logout",
    "do_revoke_own_token",
    "do_revoke_token",
    "do_send_set_password_links",
    "do_set_password_by_link",
    "get_user_by_token",
    "mail_token",
    "set_password_link",
]

TOKEN_PREFIX = "bo_"  # noqa: S105 - a public marker, not a secret

logger = logging.getLogger(__name__)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(user: Any, *, name: str, actor: str, reason: str = "") -> str:
    """Create a token for ``user``; the plain token is returned once and never stored.

    Callers: the person themselves (``do_create_own_token``) and a released user-admin
    case, which mails the token to the person (``accounts.effects``).
    """
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
            reason=reason,
        )
    return token


def do_create_own_token(user: Any, *, name: str) -> str:
    """A person's own API token, shown to them once (#13: never one for someone else)."""
    return do_create_token(user, name=name, actor=user.get_username(), reason="own token")


def do_revoke_token(row: ApiToken, *, actor: str, reason: str = "") -> None:
    with transaction.atomic():
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(
            "accounts.token.revoked",
            actor=actor,
            object_type="api_token",
            object_id=row.pk,
            before={"revoked": False},
            after={"revoked": True, "user": row.user.get_username(), "prefix": row.prefix},
            reason=reason,
        )


def do_revoke_own_token(user: Any, token_id: int) -> ApiToken:
    """Revoke one of one's own tokens; someone else's is "not found", as if it did not exist."""
    with transaction.atomic():
        row = (
            ApiToken.objects.select_for_update()
            .filter(pk=token_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if row is None:
            raise DomainError(
                "accounts.token_not_found", _("You have no active token %(id)s.") % {"id": token_id}
            )
        do_revoke_token(row, actor=user.get_username(), reason="own token")
    return row


def get_user_by_token(token: str) -> Any | None:
    """The active user a token belongs to, or None (unknown, revoked, inactive user)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user__profile")
        .filter(digest=_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used=now)
    return row.user


# -- passwords ---------------------------------------------------------------------------


def do_change_own_password(user: Any, password: str) -> None:
    """#13: a person's new password, after they gave the current one (the form checks it)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        username = user.get_username()
        record(
            "auth.password.changed",
            actor=username,
            object_type="person",
            object_id=username,
            reason="own password, current one given",
        )


def do_set_password_by_link(user: Any, password: str) -> None:
    """#13: the password a person chose through the link mailed to them (the link's token
    is checked by Django's ``PasswordResetConfirmView`` and is void once the password is set)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        username = user.get_username()
        record(
            "auth.password.set",
            actor=username,
            object_type="person",
            object_id=username,
            reason="set-password link",
        )


def set_password_link(user: Any) -> str:
    """A one-time link: void once the password changes or after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.BACKOFFICE_URL}/password/set/{uid}/{token}/"


def do_send_set_password_links(users: list[Any], *, actor: str, reason: str) -> None:
    """Lock each person's current password and mail them a link to choose a new one.

    The mail leaves after the transaction commits; the link is made then, from the locked
    password, so that it is valid. Nobody but the person sees it (with a real mail backend).
    """
    with transaction.atomic():
        for user in users:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            username = user.get_username()
            record(
                "auth.password.link_sent",
                actor=actor,
                object_type="person",
                object_id=username,
                after={"sent_to": user.email, "password_usable": False},
                reason=reason,
            )
            transaction.on_commit(partial(_mail_link, user), robust=True)


def _mail_link(user: Any) -> None:
    with translation.override(_language(user)):
        _send(
            user,
            _("Set your Backoffice password"),
            _(
                "Hello %(name)s,\n\nchoose your Backoffice password here (the link works "
                "once):\n%(link)s\n\nYour login name is %(login)s. If you did not expect "
                "this message, tell your administrators.\n"
            )
            % {
                "name": _display_name(user),
                "link": set_password_link(user),
                "login": user.get_username(),
            },
        )


def mail_token(user: Any, token: str, *, name: str) -> None:
    """An API token approved for someone, sent to them only (after the release commits)."""
    with translation.override(_language(user)):
        _send(
            user,
            _("Your Backoffice API token"),
            _(
                "Hello %(name)s,\n\nan API token %(token_name)s was approved for you:\n\n"
                "%(token)s\n\nKeep it secret; it is shown nowhere else. Revoke it on your "
                "settings page when you no longer need it.\n"
            )
            % {"name": _display_name(user), "token_name": name or "-", "token": token},
        )


def _send(user: Any, subject: str, body: str) -> None:
    """One mail to the person's own address (the configured EMAIL_BACKEND)."""
    sent = send_mail(subject, body, None, [user.email])
    if not sent:
        logger.error("no mail could be sent to %s", user.get_username())


def _language(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return str(profile.language) if profile is not None else settings.LANGUAGE_CODE


def _display_name(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return str(profile.display_name) if profile is not None else str(user.get_username())


# -- logins --------------------------------------------------------------------------------


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


def person_directory() -> Directory:
    """The active people, for payload fields of type ``person``."""
    active = get_user_model().objects.filter(is_active=True)
    return Directory(
        existing=lambda ids: frozenset(
            active.filter(username__in=ids).values_list("username", flat=True)
        ),
        choices=lambda: [
            (u.username, u.profile.display_name if hasattr(u, "profile") else u.username)
            for u in active.select_related("profile").order_by("username")
        ],
    )
