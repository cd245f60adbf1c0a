"""The access app's part of loading a policy: roles with their hierarchy, the policy's own
role assignments, and the check that new access rules hold for the grants cases made."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from backoffice.access.models import ReviewItem, Role, RoleAssignment
from backoffice.core.access import grant_problems
from backoffice.core.policy import PolicyDocument, Problem, access_rules
from backoffice.org.appliers import Applier, PolicyLoad

__all__ = ["ACCESS_APPLIER"]


def _role_state(role: Role, contains: list[str]) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "contains": contains,
        "retired": role.retired_at is not None,
    }


def _roles(load: PolicyLoad) -> dict[str, Role]:
    existing = {r.key: r for r in Role.objects.select_for_update().prefetch_related("contains")}
    children: dict[str, list[str]] = {
        r.key: sorted(c.key for c in r.contains.all()) for r in existing.values()
    }
    for spec in load.policy.roles:
        wanted = {
            "name": spec.name,
            "description": spec.description,
            "permissions": sorted(set(spec.permissions)),
            "contains": sorted(set(spec.contains)),
            "retired": False,
        }
        role = existing.get(spec.id)
        before = None if role is None else _role_state(role, children[spec.id])
        if before == wanted:
            continue
        if role is None:
            role = Role(key=spec.id)
            existing[spec.id] = role
        role.name, role.description = spec.name, spec.description
        role.permissions, role.retired_at = wanted["permissions"], None
        role.save()
        action = "access.role.created" if before is None else "access.role.changed"
        load.audit(action, "role", spec.id, before, wanted)
    for spec in load.policy.roles:
        existing[spec.id].contains.set([existing[c] for c in spec.contains])
    for key, role in existing.items():
        if key not in {s.id for s in load.policy.roles} and role.retired_at is None:
            before = _role_state(role, children.get(key, []))
            role.retired_at = timezone.now()
            role.save(update_fields=["retired_at", "last_updated"])
            load.audit("access.role.retired", "role", key, before, before | {"retired": True})
    return existing


def apply_access(load: PolicyLoad) -> None:
    """Roles, then the policy's own grants (those of role-grant cases are not its to end)."""
    roles = _roles(load)
    rows = (
        RoleAssignment.objects.select_for_update()
        .filter(source="policy")
        .select_related("user", "role")
    )
    existing = {(a.user.username, a.role.key, a.valid_from): a for a in rows}
    wanted = {(s.person, s.role, s.valid_from): s for s in load.policy.assignments}
    # #15: a policy grant a reviewer revoked (a released role-revoke case) stays ended,
    # even while the file still lists it
    for key in _revoked(existing):
        existing.pop(key)
        wanted.pop(key, None)
    load.sync_dated(
        "assignment",
        existing,
        wanted,
        lambda key, spec: RoleAssignment(
            user=load.users_by_name[key[0]],
            role=roles[key[1]],
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            granted_by=load.actor,
            source="policy",
        ),
        app="access",
    )


def _revoked(rows: dict[tuple[str, str, date], RoleAssignment]) -> list[tuple[str, str, date]]:
    ended = set(
        ReviewItem.objects.filter(
            status=ReviewItem.REVOKED, case__status="released", assignment__source="policy"
        ).values_list("assignment_id", flat=True)
    )
    return [key for key, row in rows.items() if row.pk in ended]


def check_access(document: PolicyDocument) -> list[Problem]:
    """#6: new access rules must hold for the grants cases made, too (NIST RBAC: an SSD
    constraint that current assignments break is refused); the file's own grants were
    checked when it was parsed."""
    rules = access_rules(document.policy)
    if rules is None:
        return []
    today = timezone.localdate()
    own = [(a.person, a.role, a.valid_from, a.valid_to) for a in document.policy.assignments]
    granted = [
        (person, role, max(start, today), end, source)
        for person, role, start, end, source in RoleAssignment.objects.exclude(source="policy")
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .values_list("user__username", "role__key", "valid_from", "valid_to", "source")
        if rules.knows(role)
    ]
    if not granted:
        return []
    grants = own + [row[:4] for row in granted]
    return [
        document.problem(("access",), f"access: {message} (with {granted[i - len(own)][4]})")
        if i >= len(own)
        else document.problem(("assignments", i), f"access: {message}")
        for i, message in grant_problems(rules, grants)
    ]


ACCESS_APPLIER = Applier("access", 50, apply_access, check_access)
