"""#16: the retail demo's cases, made through the real services by the demo people, so the
inbox of each finance role shows work on first start (docs/retail.md walks through them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from backoffice.masterdata.models import Customer, Employee, Item, StockLocation, Vendor

__all__ = ["seed_retail_cases", "eur"]


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


#: the demo's master data (as ``backoffice masterdata import`` would load it)
VENDORS = [
    ("V10001", "Regalbau Nord GmbH", "DE89370400440532013000", "Hafenweg 7, 20457 Hamburg"),
    ("V10002", "Nordsee Fisch GmbH", "DE75512108001245126199", "Kai 3, 27568 Bremerhaven"),
    ("V10003", "Textil Weber KG", "DE02120300000000202051", "Webergasse 1, 95028 Hof"),
]


def seed_retail_master_data() -> None:
    for number, name, iban, address in VENDORS:
        Vendor.objects.get_or_create(
            number=number, defaults={"name": name, "iban": iban, "address": address}
        )
    Customer.objects.get_or_create(
        number="C000104", defaults={"name": "Hotel Adler GmbH", "address": "Marktplatz 1, Berlin"}
    )
    Item.objects.get_or_create(
        number="RACK-40", defaults={"name": "Pallet racking", "unit": "pcs", "unit_price": 90}
    )
    for code, name, kind, unit in [
        ("warehouse", "Central warehouse", "warehouse", "warehouse"),
        ("berlin-stock", "Berlin stock room", "stock-room", "shop-berlin-stock"),
        ("hamburg-stock", "Hamburg stock room", "stock-room", "shop-hamburg-stock"),
    ]:
        StockLocation.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "unit": unit}
        )
    # every person of the policy has an employee record (salary and changes come by cases)
    people = get_user_model().objects.filter(profile__isnull=False).order_by("username")
    for n, (login, name) in enumerate(people.values_list("username", "profile__display_name")):
        Employee.objects.get_or_create(
            person=login, defaults={"number": f"E{10001 + n:05d}", "name": name}
        )


def seed_retail_cases() -> int:
    """Create the demo cases once; returns how many were created (0 if any case exists)."""
    if Case.objects.exists():
        return 0
    users = {u.username: Actor(u) for u in get_user_model().objects.select_related("profile")}
    seed_retail_master_data()

    def start(maker: str, process: str, payload: dict[str, Any]) -> int:
        case = do_start_case(users[maker], process, payload, submit=True).raise_if_denied()
        return int(case.pk)

    def act(case_id: int, who: str, kind: CommandKind = CommandKind.RELEASE) -> None:
        do_command_by_id(users[who], case_id, Command(kind)).raise_if_denied()

    # procure to pay, one order all the way to the invoice; the invoice is 3 % dearer
    requisition = start(
        "frank.albrecht",
        "purchase-requisition",
        {
            "item": "Pallet racking",
            "quantity": 40,
            "amount": eur("3600.00"),
            "location": "warehouse",
        },
    )
    act(requisition, "petra.engel")
    order = start(
        "david.schreiber",
        "purchase-order",
        {
            "vendor": "V10001",
            "item": "Pallet racking",
            "quantity": 40,
            "unit_price": eur("90.00"),
            "amount": eur("3600.00"),
            "requisition": requisition,
        },
    )
    act(order, "petra.engel")
    receipt = start(
        "emre.yilmaz",
        "goods-receipt",
        {
            "order": order,
            "vendor": "V10001",
            "item": "Pallet racking",
            "quantity": 40,
            "location": "warehouse",
            "delivery_note": "LS-2026-0815",
        },
    )
    act(receipt, "frank.albrecht")
    invoice = start(
        "ralf.simon",
        "invoice-match",
        {
            "invoice_number": "RE-77120",
            "vendor": "V10001",
            "order": order,
            "invoice_quantity": 40,
            "invoice_price": eur("92.70"),
            "amount": eur("3708.00"),
        },
    )
    assert invoice  # the price is off by 3 %: it waits for the head of finance (mismatch)
    # a vendor's new bank account, released by Ute: she may not pay that vendor for 30 days
    vendor = start(
        "nadine.busch",
        "vendor-master",
        {
            "vendor": "V10002",
            "vendor_name": "Nordsee Fisch GmbH",
            "change": "bank-account",
            "iban": "DE02120300000000202051",
            "reason": "Letter of 2026-11-28; confirmed by call-back",
        },
    )
    act(vendor, "ralf.simon", CommandKind.APPROVE)
    act(vendor, "ute.beck")
    start(
        "ralf.simon",
        "payment-run",
        {
            "vendor": "V10002",
            "iban": "DE02120300000000202051",
            "amount": eur("4200.00"),
            "value_date": "2026-12-15",
            "invoices": "RE-5531, RE-5540",
        },
    )
    # the shop: a till with a difference, a refund; the ledger: an entry to post
    start(
        "tobias.lorenz",
        "till-cash-up",
        {
            "shop": "shop-berlin",
            "till": "Till 2",
            "business_day": "2026-12-05",
            "expected": eur("1843.20"),
            "counted": eur("1823.20"),
        },
    )
    start(
        "kevin.maurer",
        "credit-note",
        {"customer": "C000104", "amount": eur("180.00"), "reason": "complaint"},
    )
    start(
        "carina.wolff",
        "journal-entry",
        {
            "debit_account": "6300",
            "credit_account": "1800",
            "amount": eur("1250.00"),
            "text": "Accrual cleaning services November",
            "posting_date": "2026-11-30",
        },
    )
    start(
        "birgit.roth",
        "salary-change",
        {
            "employee": "lea.schubert",
            "new_salary": eur("2650.00"),
            "effective": "2027-01-01",
            "reason": "End of probation",
        },
    )
    return Case.objects.count()
