"""#16: the demo retailer Musterhandel GmbH loaded once per worker, its people on the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.cases.conftest import Person
from tests.conftest import POLICIES, _Snapshot

RETAIL_POLICY: Path = POLICIES / "demo-retail.yaml"

_snapshots: dict[str, _Snapshot] = {}


@pytest.fixture
def demo_retail(db: Any) -> Any:
    """The retailer's organisation in the database, loaded through the real service once
    per worker and database, then restored from the rows that load wrote."""
    from backoffice.org.services import do_load_policy

    snapshot = _snapshots.get(connection.vendor)
    if snapshot is not None:
        return snapshot.restore()
    snapshot = _Snapshot()
    before = snapshot.existing()
    result = do_load_policy(RETAIL_POLICY.read_bytes(), str(RETAIL_POLICY), actor="test:setup")
    snapshot.take(before, result)
    _snapshots[connection.vendor] = snapshot
    return result


#: the IBAN on file for every vendor the tests pay
IBAN = "DE02120300000000202051"


#: the people with an employee record in the ``person`` fixture
EMPLOYEES = ("birgit.roth", "heike.stein", "lea.schubert", "ben.walter", "tobias.lorenz")


@pytest.fixture
def person(demo_retail: Any) -> Callable[[str], Person]:
    """People of the retailer on the API, with vendors V10001-V10009, a customer and the
    employee records of HR, payroll and three staff on file."""
    from backoffice.masterdata.models import Customer, Employee, Vendor

    for n, login in enumerate(EMPLOYEES, start=1):
        Employee.objects.create(number=f"E0000{n}", person=login, name=login.title())

    for n in range(1, 10):
        Vendor.objects.create(number=f"V1000{n}", name=f"Vendor {n}", iban=IBAN)
    Customer.objects.create(number="C000104", name="Hotel Adler GmbH")
    return Person


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}
