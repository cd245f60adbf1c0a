"""Django's login signals, turned into audit events (the only audited path without a do_*:
logins happen inside ``django.contrib.auth``); and no superuser is ever saved (#13)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver

from backoffice.accounts.services import (
    do_record_login,
    do_record_login_failure,
    do_record_logout,
)
from backoffice.core.errors import DomainError

__all__: list[str] = []


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender: Any, user: Any, **kwargs: Any) -> None:
    do_record_login(user)


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender: Any, user: Any = None, **kwargs: Any) -> None:
    do_record_logout(user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Django has already masked secrets in ``credentials``; we keep the username only.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    do_record_login_failure(str(username or ""))


@receiver(pre_save, sender=get_user_model(), dispatch_uid="no-superusers")
def _no_superuser(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """#13: a superuser would pass every Django permission check without a role or a case;
    Backoffice has none, so writing the flag is refused (migration accounts 0002 cleared
    old ones; one forced in by SQL still grants nothing, see ``accounts.backends``)."""
    writes_flag = update_fields is None or "is_superuser" in update_fields
    if writes_flag and instance.is_superuser:
        raise DomainError(
            "accounts.no_superuser",
            "Backoffice has no superusers: what a person may do comes from roles of the "
            "policy, granted with four eyes (docs/identities.md).",
        )
