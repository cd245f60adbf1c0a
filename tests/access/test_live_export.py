"""#15 part 6: the folder ``sod analyze --live`` analyses holds exactly what the database
holds on the day asked — on PostgreSQL written by the server's COPY, on SQLite by the ORM.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.access.export import write_live_folder
from backoffice.access.models import Mitigation, Role, RoleAssignment
from tests.access.test_grants import mitigation
from tests.cases.conftest import Person

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def rows(folder: Path, name: str) -> list[tuple[str, ...]]:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        header, *body = csv.reader(handle)
    assert header  # every file has its header, also when it has no rows
    return [tuple(row) for row in body]


@pytest.fixture
def folder(demo_bank: Any, tmp_path: Path) -> Path:
    """The demo bank plus the cases a day-exact export must get right."""
    users = get_user_model()
    odd = users.objects.create(username="odd.name", first_name='Müller, "Jr."')
    trader = Role.objects.get(key="trader")
    old = Role.objects.create(key="old-role", name="Retired", permissions=["trade.enter"])
    old.retired_at = old.created
    old.save()
    trader_parent = Role.objects.create(key="desk-lead", name="Desk lead, trading")
    trader_parent.contains.add(trader)

    def held(role: Role, start: date, end: date | None = None) -> None:
        RoleAssignment.objects.create(user=odd, role=role, valid_from=start, valid_to=end)

    held(trader_parent, AS_OF)  # from that very day: held
    held(trader, AS_OF - timedelta(days=90), AS_OF)  # ended that day (exclusive): not held
    held(trader, AS_OF + timedelta(days=1))  # starts the day after: not held
    held(old, AS_OF - timedelta(days=90))  # a retired role: not held
    for person in ("felix.hoffmann", "paul.meyer"):  # two released mitigation cases
        case = Person("anna.schmidt").start("mitigation", mitigation(person)).json()
        assert Person("clara.vogel").act(case["id"], "release").json()["status"] == "released"
    Mitigation.objects.update(valid_from=AS_OF - timedelta(days=1))
    Mitigation.objects.filter(person__username="paul.meyer").update(
        valid_from=AS_OF + timedelta(days=1)
    )
    write_live_folder(tmp_path, AS_OF)
    return tmp_path


def test_people_roles_and_the_hierarchy_are_as_in_the_database(folder: Path) -> None:
    users = dict(rows(folder, "users"))
    assert users["odd.name"] == 'Müller, "Jr."'  # quoted and read back whole
    assert set(users) == set(get_user_model().objects.values_list("username", flat=True))
    roles = dict(rows(folder, "roles"))
    assert roles["desk-lead"] == "Desk lead, trading"
    assert "old-role" not in roles
    assert ("desk-lead", "trader") in rows(folder, "role_hierarchy")
    permissions = set(rows(folder, "role_permissions"))
    for role in Role.objects.filter(retired_at__isnull=True):
        assert {p for r, p in permissions if r == role.key} == set(role.permissions)


def test_assignments_are_those_held_on_the_day(folder: Path) -> None:
    held = rows(folder, "assignments")
    assert [role for user, role in held if user == "odd.name"] == ["desk-lead"]
    expected = RoleAssignment.objects.filter(
        valid_from__lte=AS_OF, role__retired_at__isnull=True
    ).exclude(valid_to__lte=AS_OF)
    assert sorted(held) == sorted(expected.values_list("user__username", "role__key"))


def test_a_mitigation_from_a_later_day_is_not_in_the_folder(folder: Path) -> None:
    earlier = Mitigation.objects.get(person__username="felix.hoffmann")
    assert rows(folder, "mitigations") == [
        ("felix.hoffmann", earlier.risk, earlier.control, earlier.valid_until.isoformat())
    ]
