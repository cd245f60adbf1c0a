"""#16: procure to pay at the demo retailer in a real browser, with a screenshot of each
stage: requisition, order, receipt, invoice match (a mismatch), payment run."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_sessions, screenshot

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_retail(live_server: Any, transactional_db: Any) -> str:
    from backoffice.ops.retail_seed import seed_retail_master_data
    from backoffice.org.services import do_load_policy
    from tests.retail.conftest import RETAIL_POLICY

    do_load_policy(RETAIL_POLICY.read_bytes(), str(RETAIL_POLICY), actor="test:setup")
    seed_retail_master_data()
    return str(live_server.url)


@pytest.fixture
def person(chromium: Any, live_retail: str) -> Iterator[Callable[[str], Any]]:
    """A browser session of ``username``, logged in by typing, in English."""
    with browser_sessions(chromium, live_retail) as open_as:
        yield lambda username: open_as(username, language="en")


def start(page: Any, base: str, process: str, fields: dict[str, str]) -> str:
    """Fill a start form like a person (a select is chosen, the rest typed), submit it."""
    page.goto(f"{base}/cases/new/{process}/")
    for name, value in fields.items():
        locator = page.locator(f"#id_{name}")
        if locator.evaluate("e => e.tagName") == "SELECT":
            locator.select_option(value)
        else:
            locator.fill(value)
    page.get_by_role("button", name="Submit for release").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    return str(page.url)


def act(page: Any, case_url: str, button: str) -> None:
    page.goto(case_url)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(case_url)


def state(page: Any) -> Any:
    return expect(page.locator(".case-head .state"))


def test_procure_to_pay_from_requisition_to_payment_run(
    person: Callable[[str], Any], live_retail: str
) -> None:
    base = live_retail
    frank, petra = person("frank.albrecht"), person("petra.engel")
    requisition = start(
        frank,
        base,
        "purchase-requisition",
        {"item": "Pallet racking", "quantity": "40", "amount": "3600.00", "location": "warehouse"},
    )
    expect(frank.get_by_role("button", name="Release", exact=True)).to_have_count(0)
    screenshot(frank, "retail-1-requisition")
    act(petra, requisition, "Release")
    state(petra).to_have_text("released")

    david = person("david.schreiber")
    order = start(
        david,
        base,
        "purchase-order",
        {
            "vendor": "V10001",
            "item": "Pallet racking",
            "quantity": "40",
            "unit_price": "90.00",
            "amount": "3600.00",
            "requisition": requisition.rstrip("/").rsplit("/", 1)[1],
        },
    )
    act(petra, order, "Release")
    state(petra).to_have_text("released")
    screenshot(petra, "retail-2-order")

    emre = person("emre.yilmaz")
    receipt = start(
        emre,
        base,
        "goods-receipt",
        {
            "order": order.rstrip("/").rsplit("/", 1)[1],
            "vendor": "V10001",
            "item": "Pallet racking",
            "quantity": "40",
            "location": "warehouse",
            "delivery_note": "LS-2026-0815",
        },
    )
    act(frank, receipt, "Release")
    state(frank).to_have_text("released")
    screenshot(frank, "retail-3-receipt")

    ralf, ute, nadine = person("ralf.simon"), person("ute.beck"), person("nadine.busch")
    invoice = start(
        ralf,
        base,
        "invoice-match",
        {
            "invoice_number": "RE-77120",
            "vendor": "V10001",
            "order": order.rstrip("/").rsplit("/", 1)[1],
            "invoice_quantity": "40",
            "invoice_price": "92.70",
            "amount": "3708.00",
        },
    )
    # 3 % dearer than ordered: the invoice waits for the head of finance
    expect(ralf.locator("body")).to_contain_text("Approval of a mismatch (head of finance)")
    screenshot(ralf, "retail-4-invoice-mismatch")
    act(ute, invoice, "Approve")
    act(nadine, invoice, "Release")
    state(nadine).to_have_text("released")
    screenshot(nadine, "retail-4-invoice-released")

    payment = start(
        ralf,
        base,
        "payment-run",
        {
            "vendor": "V10001",
            "iban": "DE89 3704 0044 0532 0130 00",
            "amount": "3708.00",
            "value_date": "2026-12-15",
            "invoices": "RE-77120",
        },
    )
    expect(ralf.get_by_role("button", name="Release", exact=True)).to_have_count(0)
    act(ute, payment, "Release")
    state(ute).to_have_text("released")
    timeline = ute.locator("#timeline")
    expect(timeline).to_contain_text("Ralf Simon")  # #19: names, not logins
    expect(timeline).to_contain_text("Ute Beck")
    screenshot(ute, "retail-5-payment-run")
