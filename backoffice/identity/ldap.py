"""#18: logging in with the directory's password (django-auth-ldap), groups as role requests.

The directory is asked for the person's entry (``BACKOFFICE_LDAP_USER_FILTER``) and binds
as them with the password typed; its ``uid`` is the login name, the same ``User`` as every
other way in. Nobody is created from the directory (people come from the policy, user-admin
cases or SCIM), and an inactive person stays out whatever the directory says. The groups the
directory lists are mapped by the policy's ``identity.roles`` to role-grant cases, never to
roles (``services.do_request_roles``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend

from backoffice.identity.services import do_record_sign_on_refused, do_request_roles

__all__ = ["DirectoryBackend", "PATH"]

PATH = "backoffice.identity.ldap.DirectoryBackend"


class DirectoryBackend(LDAPBackend):  # type: ignore[misc]
    """Password check against the directory; on only when ``BACKOFFICE_LDAP_URL`` is set."""

    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kw: Any
    ) -> Any:
        if not settings.LDAP_ENABLED or not username or not password:
            return None
        return super().authenticate(request, username=username, password=password, **kw)

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        if not user.is_active or not hasattr(user, "profile"):
            do_record_sign_on_refused("ldap", "no active person with this login", user.username)
            return None
        groups = ldap_user.group_names if settings.AUTH_LDAP_GROUP_SEARCH else set()
        do_request_roles(user, sorted(groups), source="directory")
        return user

    def get_user(self, user_id: Any) -> Any:
        from backoffice.accounts.backends import PersonBackend

        return PersonBackend().get_user(user_id)
