"""Logging in with a password, and nothing else: Django's model permissions grant nothing.

#13: what a person may do comes only from the roles of the live policy (``access``), which
change only through four-eyes cases. Django's own permission tables and its ``is_superuser``
flag would be a second, unaudited way in, so this backend answers every permission question
with "no". Django's ``User.has_perm`` still says yes to an active superuser before it asks any
backend; that is why nothing in Backoffice calls ``has_perm`` (the admin asks
``readonly_admin`` instead), why saving a superuser is refused (``accounts.signals``) and why
no command creates one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

__all__ = ["PersonBackend"]


class PersonBackend(ModelBackend):
    """Authenticates active people by password; grants no Django permission to anyone."""

    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kw: Any
    ) -> Any:
        """#18: no password login at all where the deployment switched local passwords off."""
        from django.conf import settings

        if not settings.LOCAL_PASSWORDS:
            return None
        return super().authenticate(request, username=username, password=password, **kw)

    def get_user(self, user_id: Any) -> Any:
        """The session's person with their profile: every request needs both (#14)."""
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.select_related("profile").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return False

    def with_perm(
        self,
        perm: Any,
        is_active: bool = True,
        include_superusers: bool = True,
        obj: Any = None,
    ) -> Any:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.none()
