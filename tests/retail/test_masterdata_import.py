"""#16: master data from CSV — a dry run, file:line for every bad row, nothing half-written."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice.audit.models import AuditEvent
from backoffice.masterdata.models import Customer, Employee, Item, StockLocation, Vendor

pytestmark = pytest.mark.django_db

VENDORS = (
    "number,name,iban,address,payment_terms_days\n"
    "V10001,Regalbau Nord GmbH,DE89 3704 0044 0532 0130 00,Hafenweg 7 Hamburg,30\n"
    "V10002,Nordsee Fisch GmbH,DE02120300000000202051,,14\n"
)


def run(kind: str, path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command("masterdata", "import", kind, str(path), *extra, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "vendors.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dry_run_counts_and_writes_nothing_then_the_import_writes_all(tmp_path: Path) -> None:
    path = write(tmp_path, VENDORS)
    assert "would create 2, would update 0" in run("vendors", path, "--dry-run")
    assert not Vendor.objects.exists()
    assert "created 2, updated 0, unchanged 0 vendors" in run("vendors", path)
    nord = Vendor.objects.get(number="V10001")
    assert (nord.iban, nord.payment_terms_days) == ("DE89370400440532013000", 30)
    event = AuditEvent.objects.get(action="masterdata.vendors.imported")
    assert event.after["created"] == ["V10001", "V10002"]


def test_a_second_import_updates_by_number(tmp_path: Path) -> None:
    run("vendors", write(tmp_path, VENDORS))
    changed = VENDORS.replace(",14\n", ",21\n")
    assert "created 0, updated 1, unchanged 1" in run("vendors", write(tmp_path, changed))
    assert Vendor.objects.get(number="V10002").payment_terms_days == 21


def test_every_bad_row_is_named_with_file_and_line_and_nothing_is_written(tmp_path: Path) -> None:
    text = (
        VENDORS
        + "V10003,Gute Ware KG,DE00123456789012345678,,30\n"  # line 4: check digits
        + "V1004,,DE02120300000000202051,,30\n"  # line 5: number and name
        + "V10001,Doppelt GmbH,DE02120300000000202051,,30\n"  # line 6: V10001 again
        + "V10005,Kurz,DE02120300000000202051\n"  # line 7: too few cells
    )
    path = write(tmp_path, text)
    with pytest.raises(CommandError) as caught:
        run("vendors", path)
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert message.startswith("5 problem(s), nothing was written:")
    assert f"{path}:4: iban: the IBAN's check digits are wrong" in message
    assert f"{path}:5: number: 'V1004' does not have the form V[0-9]{{5}}" in message
    assert f"{path}:5: name: is required" in message
    assert f"{path}:6: number: 'V10001' is already on line 2" in message
    assert f"{path}:7: 3 cells, the header has 5" in message
    assert not Vendor.objects.exists()  # the two good rows were not written either


def test_a_wrong_header_is_named_at_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "number,name,bank\nV10001,A,DE02120300000000202051\n")
    with pytest.raises(CommandError) as caught:
        run("vendors", path)
    assert f"{path}:1: missing column(s) iban; unknown column(s) bank" in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "text", "model", "check"),
    [
        (
            "customers",
            "number,name,iban,address,credit_limit\nC000104,Hotel Adler,,Marktplatz 1,20000.00\n",
            Customer,
            lambda o: o.credit_limit == Decimal("20000.00"),
        ),
        (
            "items",
            "number,name,unit,unit_price\nRACK-40,Pallet racking,pcs,90.00\n",
            Item,
            lambda o: o.unit_price == Decimal("90.00"),
        ),
        (
            "locations",
            "code,name,kind,unit\nberlin-stock,Berlin stock room,stock-room,shop-berlin-stock\n",
            StockLocation,
            lambda o: o.unit == "shop-berlin-stock",
        ),
        (
            "employees",
            "number,person,name,location\nE00017,lea.schubert,Lea Schubert,hamburg-floor\n",
            Employee,
            lambda o: o.person == "lea.schubert",
        ),
    ],
)
def test_each_kind_of_master_data_imports(
    tmp_path: Path, kind: str, text: str, model: Any, check: Any
) -> None:
    run(kind, write(tmp_path, text, f"{kind}.csv"))
    assert check(model.objects.get())


def test_an_amount_with_three_decimals_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "number,name,unit,unit_price\nX1,Thing,pcs,1.005\n", "items.csv")
    with pytest.raises(CommandError) as caught:
        run("items", path)
    assert f"{path}:2: unit_price: '1.005' is not an amount of 0 or more" in str(caught.value)
    assert not Item.objects.exists()


def test_an_import_never_moves_an_employee_record_to_another_person(tmp_path: Path) -> None:
    """The record holds the salary and bank account HR and payroll released: an import that
    gave it to another login, or gave a login a second record, is refused whole."""
    header = "number,person,name,location\n"
    run("employees", write(tmp_path, header + "E00001,lea.schubert,Lea Schubert,\n", "e.csv"))
    Employee.objects.filter(number="E00001").update(monthly_salary=Decimal("2650.00"))
    moved = header + "E00002,ben.walter,Ben Walter,\nE00001,birgit.roth,Birgit Roth,\n"
    with pytest.raises(CommandError) as caught:
        run("employees", write(tmp_path, moved, "moved.csv"))
    assert caught.value.returncode == 2
    assert "moved.csv:3: person: employee E00001 belongs to lea.schubert" in str(caught.value)
    second = header + "E00002,ben.walter,Ben Walter,\nE00003,lea.schubert,Lea Schubert,\n"
    with pytest.raises(CommandError) as caught:
        run("employees", write(tmp_path, second, "second.csv"))
    assert "second.csv:3: person: lea.schubert has employee record E00001 already" in str(
        caught.value
    )
    assert list(Employee.objects.values_list("number", "person")) == [("E00001", "lea.schubert")]
