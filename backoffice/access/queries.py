"""Who holds which roles and permissions on a given day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.core.roles import expand_roles, permissions_of

__all__ = [
    "get_roles",
    "get_permissions",
    "get_roles_and_permissions",
    "has_permission",
    "role_hierarchy",
]


_hierarchy_cache: dict[str, Any] = {}


def role_hierarchy() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(contains, grants)``: each role's direct child roles and direct permissions.

    Roles change only when a policy is applied, so the hierarchy is cached per process and
    keyed by the live policy version (one tiny query instead of two per call).
    """
    from backoffice.org.models import PolicyVersion

    version = PolicyVersion.objects.order_by("-number").values_list("number", "sha256").first()
    if _hierarchy_cache.get("version") == version and "value" in _hierarchy_cache:
        cached: tuple[dict[str, list[str]], dict[str, list[str]]] = _hierarchy_cache["value"]
        return cached
    contains: dict[str, list[str]] = {}
    grants: dict[str, list[str]] = {}
    for key, permissions in Role.objects.filter(retired_at__isnull=True).values_list(
        "key", "permissions"
    ):
        contains[key] = []
        grants[key] = list(permissions)
    through = Role.contains.through.objects.values_list("from_role__key", "to_role__key")
    for parent, child in through:
        if parent in contains:
            contains[parent].append(child)
    _hierarchy_cache.update(version=version, value=(contains, grants))
    return contains, grants


def _held(user: Any, day: date) -> list[str]:
    active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    return list(
        RoleAssignment.objects.filter(active, user=user, role__retired_at__isnull=True).values_list(
            "role__key", flat=True
        )
    )


def get_roles_and_permissions(
    user: Any, day: date | None = None
) -> tuple[frozenset[str], frozenset[str]]:
    """Roles held on ``day`` (with those they contain) and the permissions they grant."""
    if not getattr(user, "is_authenticated", False):
        return frozenset(), frozenset()
    contains, grants = role_hierarchy()
    held = _held(user, day or timezone.localdate())
    return expand_roles(held, contains), permissions_of(held, contains, grants)


def get_roles(user: Any, day: date | None = None) -> frozenset[str]:
    return get_roles_and_permissions(user, day)[0]


def get_permissions(user: Any, day: date | None = None) -> frozenset[str]:
    return get_roles_and_permissions(user, day)[1]


def has_permission(user: Any, permission: str, day: date | None = None) -> bool:
    return permission in get_permissions(user, day)
