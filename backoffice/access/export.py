"""The database as an access-risk folder (PRODUCT.md's CSV layout), for ``sod analyze --live``.

Writing the live data into the same files as an export from any other system means one
analysis, one output format and one set of tests for both: what the bulk report says about
an export is what it says about Backoffice itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from backoffice.access.models import Mitigation, Role, RoleAssignment
from backoffice.access.queries import get_access_rules
from backoffice.core import csvsafe

__all__ = ["write_live_folder"]


def _write(folder: Path, name: str, header: tuple[str, ...], rows: Iterable[Iterable[Any]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        # read back at once by our own analysis, never by a spreadsheet: ids stay as they are
        writer = csvsafe.writer(handle, guard=False)
        writer.writerow(header)
        writer.writerows(rows)


def write_live_folder(folder: Path, as_of: date) -> None:
    """Users, roles and assignments held on ``as_of``, the live rule set and mitigations."""
    rules = get_access_rules()
    if rules is None:
        raise LookupError("the live policy has no access rules (section 'access')")
    spec = rules.spec
    roles = Role.objects.filter(retired_at__isnull=True).prefetch_related("contains")
    _write(
        folder,
        "users",
        ("user_id", "name"),
        get_user_model().objects.values_list("username", "first_name").order_by("username"),
    )
    _write(folder, "roles", ("role_id", "name"), ((r.key, r.name) for r in roles))
    active = Q(valid_from__lte=as_of) & (Q(valid_to__isnull=True) | Q(valid_to__gt=as_of))
    _write(
        folder,
        "assignments",
        ("user_id", "role_id"),
        RoleAssignment.objects.filter(active, role__retired_at__isnull=True).values_list(
            "user__username", "role__key"
        ),
    )
    _write(
        folder,
        "role_permissions",
        ("role_id", "permission"),
        ((r.key, p) for r in roles for p in r.permissions),
    )
    _write(
        folder,
        "role_hierarchy",
        ("parent_role_id", "child_role_id"),
        ((r.key, c.key) for r in roles for c in r.contains.all()),
    )
    _write(
        folder,
        "functions",
        ("function_id", "permission"),
        ((f.id, p) for f in spec.functions for p in f.permissions),
    )
    _write(
        folder,
        "actions",
        ("action", "function_id"),
        ((a, f.id) for f in spec.functions for a in f.actions),
    )
    _write(
        folder,
        "risks",
        ("risk_id", "level", "function_id"),
        ((r.id, r.level, f) for r in spec.risks for f in r.functions),
    )
    _write(
        folder,
        "mitigations",
        ("user_id", "risk_id", "control_id", "valid_until"),
        (
            (m.person.username, m.risk, m.control, m.valid_until.isoformat())
            for m in Mitigation.objects.filter(
                valid_from__lte=as_of, risk__in=rules.risks
            ).select_related("person")
        ),
    )
