"""#16: master data and the retailer's work lists as API pages, CSV and pages (EN and DE)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.test import Client

from backoffice.audit.models import AuditEvent
from backoffice.masterdata.models import Vendor
from tests.cases.conftest import Person, problem
from tests.retail.conftest import eur
from tests.retail.test_retail_packs import (
    approved_order,
    invoice,
    payment,
    released,
    started,
    vendor_change,
)


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_vendors_are_listed_a_page_at_a_time_and_whole_as_csv(demo_retail: Any) -> None:
    for n in range(3):
        Vendor.objects.create(number=f"V1000{n}", name=f"Vendor {n}", iban="DE02120300000000202051")
    ute = Person("ute.beck")
    first = ute.get("/masterdata/vendors?limit=2")
    assert [v["number"] for v in first.json()] == ["V10000", "V10001"]
    following = first["Link"].split(";")[0].strip("<>").split("/api/v1")[1]
    assert [v["number"] for v in ute.get(following).json()] == ["V10002"]
    assert [r["number"] for r in rows(ute.get("/masterdata/vendors?format=csv"))] == [
        "V10000",
        "V10001",
        "V10002",
    ]


def test_a_cashier_may_not_read_master_data_and_the_refusal_is_recorded(
    demo_retail: Any,
) -> None:
    problem(Person("tobias.lorenz").get("/masterdata/vendors"), 403, "reports.forbidden")
    assert AuditEvent.objects.filter(
        action="masterdata.read_denied", actor="tobias.lorenz"
    ).exists()


def test_the_work_lists_show_what_waits(person: Any) -> None:
    david, ralf, ute = person("david.schreiber"), person("ralf.simon"), person("ute.beck")
    approved = approved_order(person)
    order = started(
        david.start(
            "purchase-order",
            {
                "vendor": "V10001",
                "item": "Pallet racking",
                "quantity": 40,
                "unit_price": eur("90.00"),
                "amount": eur("3600.00"),
            },
        )
    )
    mismatched = started(ralf.start("invoice-match", invoice("92.70", order=approved)))
    change = started(person("nadine.busch").start("vendor-master", vendor_change()))
    ralf.act(change["id"], "approve")
    released(ute.act(change["id"], "release"))
    paid = started(ralf.start("payment-run", payment("V10002")))
    till = {
        "shop": "shop-berlin",
        "till": "Till 2",
        "business_day": "2026-12-05",
        "expected": eur("1843.20"),
        "counted": eur("1823.20"),
    }
    short = started(person("tobias.lorenz").start("till-cash-up", till))
    person("lea.schubert").act(short["id"], "approve")

    def listed(name: str) -> list[dict[str, str]]:
        return rows(ute.get(f"/masterdata/reports/{name}?format=csv"))

    # approved or waiting, no released invoice yet (the mismatched one waits)
    assert [r["case"] for r in listed("open-purchase-orders")] == [
        str(order["id"]),
        str(approved),
    ]
    (waiting,) = listed("invoices-waiting")
    assert (waiting["case"], waiting["mismatch"]) == (str(mismatched["id"]), "yes")
    (difference,) = listed("till-differences")
    assert (difference["case"], difference["difference"]) == (str(short["id"]), "-20.00")
    assert [r["case"] for r in listed("recent-vendor-payments")] == [str(paid["id"])]
    assert listed("write-offs") == []


def test_the_pages_are_in_english_and_german(demo_retail: Any) -> None:
    """Olga reads English, Ute German (their language in the policy)."""
    from django.contrib.auth import get_user_model

    def page(username: str, path: str) -> str:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        response = client.get(path)
        assert response.status_code == 200
        return str(response.content.decode())

    english = page("olga.fuchs", "/masterdata/reports/till-differences/")
    assert "Till differences" in english and "Business day" in english
    german = page("ute.beck", "/masterdata/reports/till-differences/")
    assert "Kassendifferenzen" in german and "Geschäftstag" in german
    assert "Lieferanten" in page("ute.beck", "/masterdata/vendors/")
    assert "Gebuchter Betrag" in page("ute.beck", "/masterdata/reports/write-offs/")
    assert "Booked amount" in page("olga.fuchs", "/masterdata/reports/write-offs/")
    assert "Monatsgehalt" in page("ute.beck", "/masterdata/employees/")


def test_the_reports_page_offers_master_data_only_to_those_who_may_read_it(
    demo_retail: Any,
) -> None:
    from django.contrib.auth import get_user_model

    def reports(username: str) -> str:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        return str(client.get("/reports/").content.decode())

    assert "/masterdata/vendors/" in reports("olga.fuchs")
    assert "/masterdata/vendors/" not in reports("tobias.lorenz")


def test_write_offs_are_summed_per_location_and_month(person: Any) -> None:
    """Released write-offs are booked, the others wait; each location and month is one row,
    newest month first, a page at a time on the API and whole as CSV."""
    from datetime import UTC, datetime

    from backoffice.cases.models import Case
    from tests.retail.test_retail_packs import write_off

    frank, sandra, ute = person("frank.albrecht"), person("sandra.kaiser"), person("ute.beck")

    def written_off(amount: str, location: str, release: bool, month: int = 0) -> None:
        case = started(frank.start("stock-write-off", write_off(amount, location)))
        if release:
            released(sandra.act(case["id"], "release"))
        if month:
            Case.objects.filter(pk=case["id"]).update(created=datetime(2026, month, 15, tzinfo=UTC))

    written_off("300.10", "warehouse", release=True, month=10)
    written_off("0.20", "warehouse", release=True, month=10)
    written_off("20.00", "warehouse", release=False, month=10)
    written_off("99.99", "warehouse", release=True, month=11)
    written_off("45.50", "shop-berlin-stock", release=False, month=11)
    rejected = started(frank.start("stock-write-off", write_off("10.00", "warehouse")))
    sandra.act(rejected["id"], "reject", comment="Not damaged")

    table = rows(ute.get("/masterdata/reports/write-offs?format=csv"))
    assert [
        (
            r["location"],
            r["month"],
            r["booked_count"],
            r["booked_amount"],
            r["waiting_count"],
            r["waiting_amount"],
        )
        for r in table
    ] == [
        ("shop-berlin-stock", "2026-11", "0", "0.00", "1", "45.50"),
        ("warehouse", "2026-11", "1", "99.99", "0", "0.00"),
        ("warehouse", "2026-10", "2", "300.30", "1", "20.00"),
    ]
    first = ute.get("/masterdata/reports/write-offs?limit=2")
    assert [(r["location"], r["month"]) for r in first.json()] == [
        ("shop-berlin-stock", "2026-11"),
        ("warehouse", "2026-11"),
    ]
    following = first["Link"].split(";")[0].strip("<>").split("/api/v1")[1]
    (last,) = ute.get(following).json()
    assert (last["month"], last["booked_amount"]) == ("2026-10", "300.30")
    assert "Link" not in ute.get(following)
