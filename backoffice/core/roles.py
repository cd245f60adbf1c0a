"""Roles, their hierarchy and the permissions they grant (NIST RBAC with role hierarchies)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["expand_roles", "permissions_of"]


def expand_roles(held: Iterable[str], contains: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The held roles plus every role they contain, transitively (cycles are harmless here)."""
    result: set[str] = set()
    stack = list(held)
    while stack:
        role = stack.pop()
        if role not in result:
            result.add(role)
            stack.extend(contains.get(role, ()))
    return frozenset(result)


def permissions_of(
    held: Iterable[str],
    contains: Mapping[str, Iterable[str]],
    grants: Mapping[str, Iterable[str]],
) -> frozenset[str]:
    """Every permission a holder of ``held`` has, through the hierarchy."""
    return frozenset(p for role in expand_roles(held, contains) for p in grants.get(role, ()))
