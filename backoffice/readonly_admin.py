"""Django's admin, as Backoffice allows it: off by default, read-only, nothing personal.

#13: the admin was a way around every control. A superuser changed another administrator's
password there and read walled deals and the audit trail without a wall check. Now:

- it is mounted only when the operator sets ``BACKOFFICE_ADMIN=1`` (``backoffice.urls``);
- entry needs the ``admin.read`` permission of a role (granted by a four-eyes role-grant
  case) *and* the staff flag (set by a four-eyes user-admin case); ``is_superuser`` and
  Django's permission tables count for nothing;
- every model admin is read-only, and only models without walled or personal data are
  registered on this site (organisation units, process definitions). Users, groups,
  profiles, cases, audit events and everything behind a Chinese wall have their own
  checked pages and no admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.utils.translation import gettext as _

__all__ = ["ADMIN_PERMISSION", "BackofficeAdminSite", "ReadOnlyAdmin", "may_use_admin", "site"]

#: the permission (from roles of the live policy) that opens the admin
ADMIN_PERMISSION = "admin.read"


def may_use_admin(request: HttpRequest) -> bool:
    """Backoffice's own rule, one condition per line; never Django's ``has_perm``."""
    from backoffice.base.actor import actor_of

    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and ADMIN_PERMISSION in actor_of(request).permissions
    )


class BackofficeAdminSite(admin.AdminSite):
    """One login page (ours, throttled and audited), one password page (ours, audited)."""

    site_header = "Backoffice (read-only)"
    site_title = "Backoffice admin"
    index_title = "Read-only reference data"

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:  # logged in but not allowed: no second login form
            return HttpResponseForbidden(_("You may not use the admin."))
        return redirect_to_login(request.GET.get("next") or request.path)

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return redirect("password_change")

    def password_change_done(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return redirect("password_change_done")


site = BackofficeAdminSite(name="admin")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Browse, never edit: every change must pass a service that checks and audits it."""

    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_use_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
