"""Who holds which roles and permissions on a given day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.core.roles import expand_roles, permissions_of

__all__ = ["get_roles", "get_permissions", "has_permission", "role_hierarchy"]


def role_hierarchy() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(contains, grants)``: each role's direct child roles and direct permissions."""
    contains: dict[str, list[str]] = {}
    grants: dict[str, list[str]] = {}
    for role in Role.objects.filter(retired_at__isnull=True).prefetch_related("contains"):
        contains[role.key] = [child.key for child in role.contains.all()]
        grants[role.key] = list(role.permissions)
    return contains, grants


def _held(user: Any, day: date) -> list[str]:
    active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    return list(
        RoleAssignment.objects.filter(active, user=user, role__retired_at__isnull=True).values_list(
            "role__key", flat=True
        )
    )


def get_roles(user: Any, day: date | None = None) -> frozenset[str]:
    """Roles held on ``day``, including those contained in them."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    contains, _ = role_hierarchy()
    return expand_roles(_held(user, day or timezone.localdate()), contains)


def get_permissions(user: Any, day: date | None = None) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    contains, grants = role_hierarchy()
    return permissions_of(_held(user, day or timezone.localdate()), contains, grants)


def has_permission(user: Any, permission: str, day: date | None = None) -> bool:
    return permission in get_permissions(user, day)
