"""The database as an access-risk folder (PRODUCT.md's CSV layout), for ``sod analyze --live``.

Writing the live data into the same files as an export from any other system means one
analysis, one output format and one set of tests for both: what the bulk report says about
an export is what it says about Backoffice itself.

On PostgreSQL the people, roles, assignments and mitigations are written by the server's
``COPY (SELECT …) TO STDOUT`` (#15 part 6): a million people with 7.5 million assignments
pass through no Python object, which keeps the export within a small factor of copying the
tables themselves. SQLite goes through the ORM; both write the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from psycopg import sql

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
    if connection.vendor == "postgresql":
        _copy_people_and_roles(folder, as_of, sorted(rules.risks))
    else:
        _write_people_and_roles(folder, as_of, rules.risks)
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


def _write_people_and_roles(folder: Path, as_of: date, risks: Iterable[str]) -> None:
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
        "mitigations",
        ("user_id", "risk_id", "control_id", "valid_until"),
        (
            (m.person.username, m.risk, m.control, m.valid_until.isoformat())
            for m in Mitigation.objects.filter(valid_from__lte=as_of, risk__in=risks)
            .select_related("person")
            .order_by("pk")
        ),
    )


def _copy_people_and_roles(folder: Path, as_of: date, risks: list[str]) -> None:
    """The same six files as :func:`_write_people_and_roles`, each one server-side query."""
    user, role = get_user_model()._meta.db_table, Role._meta.db_table
    held, mitigation = RoleAssignment._meta.db_table, Mitigation._meta.db_table
    contains = Role.contains.through._meta.db_table
    day = sql.Literal(as_of)
    queries = {
        "users": sql.SQL("SELECT username AS user_id, first_name AS name FROM {u}"),
        "roles": sql.SQL("SELECT key AS role_id, name FROM {r} WHERE retired_at IS NULL"),
        "assignments": sql.SQL(
            "SELECT u.username AS user_id, r.key AS role_id FROM {a} a"
            " JOIN {u} u ON u.id = a.user_id JOIN {r} r ON r.id = a.role_id"
            " WHERE a.valid_from <= {day} AND (a.valid_to IS NULL OR a.valid_to > {day})"
            " AND r.retired_at IS NULL"
        ),
        "role_permissions": sql.SQL(
            "SELECT r.key AS role_id, p.permission FROM {r} r,"
            " jsonb_array_elements_text(r.permissions) AS p(permission)"
            " WHERE r.retired_at IS NULL"
        ),
        "role_hierarchy": sql.SQL(
            "SELECT p.key AS parent_role_id, c.key AS child_role_id FROM {c} h"
            " JOIN {r} p ON p.id = h.from_role_id JOIN {r} c ON c.id = h.to_role_id"
            " WHERE p.retired_at IS NULL AND c.retired_at IS NULL"
        ),
        "mitigations": sql.SQL(
            "SELECT u.username AS user_id, m.risk AS risk_id, m.control AS control_id,"
            " m.valid_until FROM {m} m JOIN {u} u ON u.id = m.person_id"
            " WHERE m.valid_from <= {day} AND m.risk = ANY({risks}) ORDER BY m.id"
        ),
    }
    names = {
        "u": sql.Identifier(user),
        "r": sql.Identifier(role),
        "a": sql.Identifier(held),
        "m": sql.Identifier(mitigation),
        "c": sql.Identifier(contains),
        "day": day,
        "risks": sql.Literal(risks),
    }
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own: Django's wrapper has no copy()
        for name, query in queries.items():
            statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(
                query.format(**names)
            )
            with (folder / f"{name}.csv").open("wb") as handle, cursor.copy(statement) as copy:
                for chunk in copy:
                    handle.write(chunk)
