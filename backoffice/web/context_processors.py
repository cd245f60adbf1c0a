"""Counts in the navigation, computed only when a page shows them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

__all__ = ["navigation"]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def inbox_count() -> str:
        from backoffice.base.actor import actor_of
        from backoffice.cases.queries import inbox_count
        from backoffice.web.templatetags.bo import badge

        return badge(inbox_count(actor_of(request)))

    def permissions() -> frozenset[str]:
        from backoffice.base.actor import actor_of

        return actor_of(request).permissions

    return {
        "nav_inbox_count": SimpleLazyObject(inbox_count),
        "nav_permissions": SimpleLazyObject(permissions),
    }
