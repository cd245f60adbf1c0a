"""#16: each process of the demo retailer end to end through the API, with the people who
use it — and the refusal a person meets who tries to do both halves."""

from __future__ import annotations

from typing import Any

from tests.cases.conftest import problem
from tests.retail.conftest import eur


def started(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    case: dict[str, Any] = response.json()
    return case


def released(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    case: dict[str, Any] = response.json()
    assert case["status"] == "released", case
    return case


def vendor_change(change: str = "bank-account", vendor: str = "V10002") -> dict[str, Any]:
    return {
        "vendor": vendor,
        "vendor_name": "Nordsee Fisch GmbH",
        "change": change,
        "iban": "DE02120300000000202051",
        "details": "",
        "reason": "Letter of 2026-11-28",
    }


def payment(vendor: str = "V10002", amount: str = "4200.00") -> dict[str, Any]:
    return {
        "vendor": vendor,
        "iban": "DE02120300000000202051",
        "amount": eur(amount),
        "value_date": "2026-12-15",
        "invoices": "RE-5531",
    }


# -- vendor master data -----------------------------------------------------------------


def test_a_new_bank_account_is_called_back_by_another_and_released_by_finance(
    person: Any,
) -> None:
    nadine, ralf, ute = person("nadine.busch"), person("ralf.simon"), person("ute.beck")
    case = started(nadine.start("vendor-master", vendor_change()))
    assert case["step"] == "callback"
    problem(nadine.act(case["id"], "approve"), 403, "sod.self_approval")
    assert ralf.act(case["id"], "approve").json()["step"] == "release"
    problem(ralf.act(case["id"], "release"), 403, "step.not_eligible")
    released(ute.act(case["id"], "release"))


def test_an_address_change_needs_no_call_back(person: Any) -> None:
    case = started(person("nadine.busch").start("vendor-master", vendor_change("address")))
    assert case["step"] == "release"


def test_whoever_maintained_a_vendor_may_not_pay_it_for_30_days(person: Any) -> None:
    nadine, ralf, ute = person("nadine.busch"), person("ralf.simon"), person("ute.beck")
    change = started(nadine.start("vendor-master", vendor_change()))
    ralf.act(change["id"], "approve")
    released(ute.act(change["id"], "release"))
    # Ute released V10002's bank account: she may not release a payment to V10002 …
    paid = started(ralf.start("payment-run", payment("V10002")))
    body = problem(ute.act(paid["id"], "release"), 403, "sod.cooling_off")
    assert "30 days" in body["detail"]
    released(person("katrin.vogt").act(paid["id"], "release"))
    # … but to a vendor she did not touch she may
    other = started(ralf.start("payment-run", payment("V10003")))
    released(ute.act(other["id"], "release"))


def test_a_rejected_vendor_change_makes_nobody_a_maintainer(person: Any) -> None:
    nadine, ralf, ute = person("nadine.busch"), person("ralf.simon"), person("ute.beck")
    change = started(nadine.start("vendor-master", vendor_change()))
    ralf.act(change["id"], "approve")
    assert ute.act(change["id"], "reject", comment="call-back failed").status_code == 200
    paid = started(ralf.start("payment-run", payment("V10002")))
    released(ute.act(paid["id"], "release"))


# -- procure to pay ---------------------------------------------------------------------


def test_a_requisition_is_approved_by_purchasing_not_by_the_requester(person: Any) -> None:
    frank = person("frank.albrecht")
    body = {"item": "Pallets", "quantity": 10, "amount": eur("450.00"), "location": "warehouse"}
    case = started(frank.start("purchase-requisition", body))
    problem(frank.act(case["id"], "release"), 403, "step.not_eligible")
    released(person("petra.engel").act(case["id"], "release"))


def order(amount: str, vendor: str = "V10001", requisitioner: str = "frank.albrecht") -> Any:
    return {
        "vendor": vendor,
        "item": "Pallet racking",
        "quantity": 10,
        "unit_price": eur("90.00"),
        "amount": eur(amount),
        "requisitioner": requisitioner,
    }


def test_a_purchase_order_follows_amount_tiers_and_the_buyer_never_approves(
    person: Any,
) -> None:
    david, petra = person("david.schreiber"), person("petra.engel")
    small = started(david.start("purchase-order", order("3600.00")))
    assert small["approvals"]["needed"] == 1 and small["approvals"]["tier"] == "below 5,000"
    problem(david.act(small["id"], "release"), 403, "step.not_eligible")
    released(petra.act(small["id"], "release"))
    large = started(david.start("purchase-order", order("20000.00", vendor="V10009")))
    assert large["approvals"]["tier"] == "5,000 to 50,000" and large["approvals"]["needed"] == 2
    assert petra.act(large["id"], "release").json()["status"] == "submitted"
    problem(petra.act(large["id"], "release"), 403, "sod.already_approved")
    released(person("katrin.vogt").act(large["id"], "release"))


def test_the_requisitioner_is_read_from_an_approved_requisition_never_typed_in(
    person: Any,
) -> None:
    frank, petra, david = person("frank.albrecht"), person("petra.engel"), person("david.schreiber")
    body = {"item": "Pallets", "quantity": 10, "amount": eur("900.00"), "location": "warehouse"}
    requisition = started(frank.start("purchase-requisition", body))
    on_open = order("900.00") | {"requisition": requisition["id"]}
    problem(david.start("purchase-order", on_open), 422, "masterdata.unknown_requisition")
    released(petra.act(requisition["id"], "release"))
    typed = on_open | {"requisitioner": "petra.engel"}  # what the buyer says does not count
    case = started(david.start("purchase-order", typed))
    assert case["payload"]["requisitioner"] == "frank.albrecht"
    released(petra.act(case["id"], "release"))


def test_split_orders_to_one_vendor_are_summed_for_the_tier(person: Any) -> None:
    david, petra = person("david.schreiber"), person("petra.engel")
    first = started(david.start("purchase-order", order("3000.00", vendor="V10004")))
    assert first["approvals"]["needed"] == 1
    second = started(david.start("purchase-order", order("3000.00", vendor="V10004")))
    assert second["approvals"]["needed"] == 2  # 6,000 within 7 days: the 5,000 tier
    assert second["approvals"]["aggregate"]["total"] == "6000.00"
    assert petra.act(second["id"], "release").json()["status"] == "submitted"


def approved_order(person: Any, vendor: str = "V10001") -> int:
    """David's order of 40 at 90.00, approved by Petra: what receipts and invoices name."""
    body = order("3600.00", vendor=vendor) | {"quantity": 40}
    case = started(person("david.schreiber").start("purchase-order", body))
    released(person("petra.engel").act(case["id"], "release"))
    return int(case["id"])


def receipt(order: int, quantity: int = 40, vendor: str = "V10001") -> dict[str, Any]:
    return {
        "order": order,
        "orderer": "nobody.typed.this",  # derived from the order: what is sent is replaced
        "vendor": vendor,
        "item": "Pallet racking",
        "quantity": quantity,
        "location": "warehouse",
        "delivery_note": "LS-2026-0815",
    }


def received(person: Any, quantity: int = 40, vendor: str = "V10001") -> int:
    """An approved order with a released receipt of ``quantity``: what an invoice names."""
    number = approved_order(person, vendor)
    case = started(person("emre.yilmaz").start("goods-receipt", receipt(number, quantity, vendor)))
    released(person("frank.albrecht").act(case["id"], "release"))
    return number


def test_goods_are_received_by_someone_other_than_the_orderer(person: Any) -> None:
    emre, frank = person("emre.yilmaz"), person("frank.albrecht")
    waiting = order("3600.00", vendor="V10009")
    pending = started(person("david.schreiber").start("purchase-order", waiting))
    problem(emre.start("goods-receipt", receipt(pending["id"])), 422, "masterdata.unknown_order")
    number = approved_order(person)
    wrong_vendor = receipt(number) | {"vendor": "V10002"}
    problem(emre.start("goods-receipt", wrong_vendor), 422, "masterdata.order_vendor")
    case = started(emre.start("goods-receipt", receipt(number)))
    assert case["payload"]["orderer"] == "david.schreiber"  # read from the order
    problem(emre.act(case["id"], "release"), 403, "step.not_eligible")
    released(frank.act(case["id"], "release"))


def invoice(
    price: str = "90.00", invoiced: int = 40, *, order: int, vendor: str = "V10001"
) -> dict[str, Any]:
    """What AP types in; the order's quantity and price and the quantity received are
    read from the records (anything sent for them is replaced)."""
    return {
        "invoice_number": "RE-77120",
        "vendor": vendor,
        "order": order,
        "order_quantity": 999,
        "received_quantity": 999,
        "order_price": eur("999.00"),
        "invoice_quantity": invoiced,
        "invoice_price": eur(price),
        "amount": eur(f"{float(price) * invoiced:.2f}"),
    }


def test_a_matching_invoice_is_entered_by_one_clerk_and_approved_by_another(
    person: Any,
) -> None:
    ralf = person("ralf.simon")
    case = started(ralf.start("invoice-match", invoice("91.00", order=received(person))))
    assert case["step"] == "approve"  # 1.1 % above the order's price: within 2 %
    values = case["payload"]
    assert (values["orderer"], values["order_quantity"], values["received_quantity"]) == (
        "david.schreiber",
        40,
        40,
    )
    assert values["order_price"]["amount"] == "90.00"
    problem(ralf.act(case["id"], "release"), 403, "sod.self_approval")
    released(person("nadine.busch").act(case["id"], "release"))


def test_a_mismatched_invoice_needs_the_head_of_finance_first(person: Any) -> None:
    ralf, nadine, ute = person("ralf.simon"), person("nadine.busch"), person("ute.beck")
    for body in (
        invoice("92.70", order=received(person)),  # price 3 % above the order's
        invoice(order=received(person, 38, "V10003"), vendor="V10003"),  # 40 of 38 received
        invoice(invoiced=36, order=received(person, 36, "V10004"), vendor="V10004"),  # 36 of 40
        invoice(order=approved_order(person, "V10006"), vendor="V10006"),  # nothing received
    ):
        case = started(ralf.start("invoice-match", body))
        assert case["step"] == "mismatch", body
        problem(nadine.act(case["id"], "approve"), 403, "step.not_eligible")
        assert ute.act(case["id"], "approve").json()["step"] == "approve"
        released(nadine.act(case["id"], "release"))


def test_an_invoice_is_entered_once_per_vendor(person: Any) -> None:
    ralf, nadine = person("ralf.simon"), person("nadine.busch")
    number = received(person)
    first = started(ralf.start("invoice-match", invoice(order=number)))
    again = invoice(order=number) | {"invoice_number": "re-77120"}
    problem(nadine.start("invoice-match", again), 422, "masterdata.duplicate_invoice")
    released(nadine.act(first["id"], "release"))  # its own number is no duplicate
    problem(nadine.start("invoice-match", again), 422, "masterdata.duplicate_invoice")
    other = received(person, vendor="V10003")  # the same number from another vendor is fine
    started(nadine.start("invoice-match", invoice(order=other, vendor="V10003")))


def test_an_invoice_names_an_approved_order_of_its_vendor(person: Any) -> None:
    ralf = person("ralf.simon")
    problem(ralf.start("invoice-match", invoice(order=424242)), 422, "masterdata.unknown_order")
    other = invoice(order=received(person), vendor="V10002")
    problem(ralf.start("invoice-match", other), 422, "masterdata.order_vendor")


def test_payments_are_proposed_by_one_and_released_by_others_summed_per_vendor(
    person: Any,
) -> None:
    ralf, ute, katrin = person("ralf.simon"), person("ute.beck"), person("katrin.vogt")
    first = started(ralf.start("payment-run", payment("V10005", "6000.00")))
    problem(ralf.act(first["id"], "release"), 403, "step.not_eligible")
    assert first["approvals"]["needed"] == 1
    second = started(ralf.start("payment-run", payment("V10005", "6000.00")))
    assert second["approvals"]["tier"] == "10,000 to 100,000"  # 12,000 within 7 days
    assert ute.act(second["id"], "release").json()["status"] == "submitted"
    released(katrin.act(second["id"], "release"))


def test_a_large_payment_needs_a_managing_director(person: Any) -> None:
    ralf, ute = person("ralf.simon"), person("ute.beck")
    case = started(ralf.start("payment-run", payment("V10006", "150000.00")))
    assert (case["approvals"]["needed"], case["approvals"]["board_needed"]) == (2, 1)
    # Ute's competence is 250,000; the last approval must come from the board
    assert ute.act(case["id"], "release").json()["status"] == "submitted"
    released(person("michael.brandt").act(case["id"], "release"))


# -- sales ------------------------------------------------------------------------------


def test_a_credit_limit_is_set_by_receivables_never_by_order_entry(person: Any) -> None:
    body = {"customer": "C000104", "new_limit": eur("20000.00"), "reason": "Two years, no dunning"}
    problem(
        person("kevin.maurer").start("customer-credit-limit", body), 422, "process.not_startable"
    )
    sven = person("sven.graf")
    case = started(sven.start("customer-credit-limit", body))
    problem(sven.act(case["id"], "release"), 403, "step.not_eligible")
    released(person("ute.beck").act(case["id"], "release"))


def refund(amount: str) -> dict[str, Any]:
    return {"customer": "Receipt 4711-0815", "amount": eur(amount), "reason": "return"}


def test_a_refund_needs_a_second_person_and_from_1000_two(person: Any) -> None:
    sandra, markus, anja = person("sandra.kaiser"), person("markus.heinrich"), person("anja.krause")
    # Sandra stands at the till too: she enters a refund but never approves her own
    mine = started(sandra.start("credit-note", refund("180.00")))
    problem(sandra.act(mine["id"], "release"), 403, "sod.self_approval")
    released(markus.act(mine["id"], "release"))
    large = started(person("kevin.maurer").start("credit-note", refund("1500.00")))
    assert large["approvals"]["needed"] == 2
    assert anja.act(large["id"], "release").json()["status"] == "submitted"
    released(sandra.act(large["id"], "release"))


# -- stock room and shop ----------------------------------------------------------------


def count(location: str) -> dict[str, Any]:
    return {
        "location": location,
        "counted_value": eur("18250.00"),
        "book_value": eur("18400.00"),
        "difference": eur("150.00"),
    }


def test_nobody_counts_the_stock_they_answer_for(person: Any) -> None:
    julia = person("julia.peters")
    problem(julia.start("inventory-count", count("shop-berlin-stock")), 403, "sod.responsible")
    case = started(julia.start("inventory-count", count("shop-hamburg-stock")))
    problem(julia.act(case["id"], "release"), 403, "step.not_eligible")
    released(person("frank.albrecht").act(case["id"], "release"))


def write_off(amount: str, location: str = "warehouse") -> dict[str, Any]:
    return {
        "location": location,
        "item": "Glass vases",
        "quantity": 12,
        "amount": eur(amount),
        "reason": "damaged",
    }


def test_write_offs_follow_amount_tiers_and_the_requester_never_approves(person: Any) -> None:
    frank = person("frank.albrecht")
    small = started(frank.start("stock-write-off", write_off("300.00")))
    problem(frank.act(small["id"], "release"), 403, "sod.self_approval")
    released(person("sandra.kaiser").act(small["id"], "release"))
    large = started(person("emre.yilmaz").start("stock-write-off", write_off("7000.00")))
    assert (large["approvals"]["needed"], large["approvals"]["board_needed"]) == (2, 1)
    assert frank.act(large["id"], "release").json()["status"] == "submitted"
    problem(person("markus.heinrich").act(large["id"], "release"), 403, "authority.board_required")
    released(person("katrin.vogt").act(large["id"], "release"))


def till(counted: str) -> dict[str, Any]:
    return {
        "shop": "shop-berlin",
        "till": "Till 2",
        "business_day": "2026-12-05",
        "expected": eur("1843.20"),
        "counted": eur(counted),
    }


def test_the_till_is_counted_by_two_and_a_difference_booked_by_the_manager(
    person: Any,
) -> None:
    tobias, lea, sandra = person("tobias.lorenz"), person("lea.schubert"), person("sandra.kaiser")
    even = started(tobias.start("till-cash-up", till("1843.20")))
    problem(tobias.act(even["id"], "approve"), 403, "sod.self_approval")
    released(lea.act(even["id"], "approve"))  # no difference: the second count closes it
    short = started(tobias.start("till-cash-up", till("1823.20")))
    assert sandra.act(short["id"], "approve").json()["step"] == "difference"
    problem(sandra.act(short["id"], "release"), 403, "sod.prior_step_actor")
    released(person("markus.heinrich").act(short["id"], "release"))


def test_a_price_override_needs_a_supervisor(person: Any) -> None:
    lea = person("lea.schubert")
    body = {
        "item": "Winter jacket",
        "regular_price": eur("129.00"),
        "new_price": eur("89.00"),
        "reason": "damaged",
    }
    case = started(lea.start("price-override", body))
    problem(lea.act(case["id"], "release"), 403, "step.not_eligible")
    released(person("markus.heinrich").act(case["id"], "release"))


# -- accounting -------------------------------------------------------------------------


def entry(amount: str) -> dict[str, Any]:
    return {
        "debit_account": "6300",
        "credit_account": "1800",
        "amount": eur(amount),
        "text": "Accrual cleaning services",
        "posting_date": "2026-11-30",
    }


def test_a_journal_entry_is_entered_by_one_and_posted_by_another(person: Any) -> None:
    carina, dirk = person("carina.wolff"), person("dirk.lehmann")
    case = started(carina.start("journal-entry", entry("1250.00")))
    assert case["step"] == "post"
    problem(carina.act(case["id"], "release"), 403, "sod.self_approval")  # she may post others'
    released(dirk.act(case["id"], "release"))


def test_a_large_journal_entry_needs_the_controller_first(person: Any) -> None:
    carina, dirk, ute = person("carina.wolff"), person("dirk.lehmann"), person("ute.beck")
    case = started(carina.start("journal-entry", entry("30000.00")))
    assert case["step"] == "control"
    problem(dirk.act(case["id"], "approve"), 403, "step.not_eligible")
    assert ute.act(case["id"], "approve").json()["step"] == "post"
    released(dirk.act(case["id"], "release"))


# -- HR and payroll ---------------------------------------------------------------------


def salary(employee: str) -> dict[str, Any]:
    return {
        "employee": employee,
        "new_salary": eur("2650.00"),
        "effective": "2027-01-01",
        "reason": "End of probation",
    }


def test_a_salary_change_is_entered_by_hr_and_released_by_payroll(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    case = started(birgit.start("salary-change", salary("lea.schubert")))
    problem(birgit.act(case["id"], "release"), 403, "step.not_eligible")
    released(heike.act(case["id"], "release"))


def test_nobody_changes_their_own_salary_whatever_their_roles(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    problem(birgit.start("salary-change", salary("birgit.roth")), 403, "sod.beneficiary")
    case = started(birgit.start("salary-change", salary("heike.stein")))
    problem(heike.act(case["id"], "release"), 403, "sod.beneficiary")
    released(person("michael.brandt").act(case["id"], "release"))


def test_employee_master_data_is_entered_by_hr_and_released_by_payroll(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    body = {
        "employee": "ben.walter",
        "change": "bank-account",
        "iban": "DE02120300000000202051",
        "details": "New account",
        "effective": "2026-12-01",
    }
    problem(
        birgit.start("employee-master", body | {"employee": "birgit.roth"}), 403, "sod.beneficiary"
    )
    case = started(birgit.start("employee-master", body))
    problem(birgit.act(case["id"], "release"), 403, "step.not_eligible")
    released(heike.act(case["id"], "release"))


def test_the_payroll_run_is_prepared_by_payroll_and_released_by_finance(person: Any) -> None:
    heike = person("heike.stein")
    body = {"period": "2026-12", "headcount": 26, "amount": eur("71400.00")}
    case = started(heike.start("payroll-run", body))
    problem(heike.act(case["id"], "release"), 403, "step.not_eligible")
    released(person("ute.beck").act(case["id"], "release"))


# -- master data the cases write ----------------------------------------------------------


def test_a_released_bank_account_is_the_only_one_a_payment_may_go_to(person: Any) -> None:
    from backoffice.masterdata.models import Vendor

    nadine, ralf, ute = person("nadine.busch"), person("ralf.simon"), person("ute.beck")
    new_iban = "DE89370400440532013000"
    change = started(nadine.start("vendor-master", vendor_change() | {"iban": new_iban}))
    # not on file until the change is released
    refused = ralf.start("payment-run", payment("V10002") | {"iban": new_iban})
    problem(refused, 422, "masterdata.iban_mismatch")
    ralf.act(change["id"], "approve")
    released(ute.act(change["id"], "release"))
    assert Vendor.objects.get(number="V10002").iban == new_iban
    problem(ralf.start("payment-run", payment("V10002")), 422, "masterdata.iban_mismatch")
    started(ralf.start("payment-run", payment("V10002") | {"iban": new_iban}))


def test_a_new_vendor_is_created_on_release_and_cannot_be_created_twice(person: Any) -> None:
    from backoffice.masterdata.models import Vendor

    nadine, ralf, ute = person("nadine.busch"), person("ralf.simon"), person("ute.beck")
    problem(
        nadine.start("vendor-master", vendor_change("new-vendor")), 422, "masterdata.vendor_exists"
    )
    case = started(nadine.start("vendor-master", vendor_change("new-vendor", vendor="V20001")))
    problem(ralf.start("payment-run", payment("V20001")), 422, "masterdata.unknown_vendor")
    ralf.act(case["id"], "approve")
    released(ute.act(case["id"], "release"))
    assert Vendor.objects.get(number="V20001").name == "Nordsee Fisch GmbH"


def test_a_released_credit_limit_is_the_customers(person: Any) -> None:
    from decimal import Decimal

    from backoffice.masterdata.models import Customer

    body = {"customer": "C000104", "new_limit": eur("20000.00"), "reason": "Two years, no dunning"}
    case = started(person("sven.graf").start("customer-credit-limit", body))
    released(person("ute.beck").act(case["id"], "release"))
    assert Customer.objects.get(number="C000104").credit_limit == Decimal("20000.00")
    unknown = body | {"customer": "C999999"}
    problem(
        person("sven.graf").start("customer-credit-limit", unknown),
        422,
        "masterdata.unknown_customer",
    )
