"""#17 in a real browser: a trader books, settlement matches and confirms, and an
off-market trade is closed by trade control, each on their own session and page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from backoffice.base.actor import Actor
from backoffice.base.context import request_scope
from backoffice.trading.models import Trade
from backoffice.trading.services import do_import_reference_prices
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]

BUND = "DE0001102580"


def test_a_trader_books_settlement_confirms_trade_control_closes(
    session: Callable[..., Any], live_bank: str
) -> None:
    today = timezone.localdate().isoformat()
    ben = Actor(get_user_model().objects.get(username="ben.krause"))
    with request_scope():
        do_import_reference_prices(
            ben, f"instrument,date,price\n{BUND},{today},100.00\n", "ref.csv"
        )

    lars = session("lars.vogt", language="en")
    lars.goto(f"{live_bank}/trading/")
    lars.select_option("#id_book-instrument", BUND)
    lars.select_option("#id_book-side", "buy")
    lars.fill("#id_book-quantity", "250000")
    lars.fill("#id_book-price", "101.50")  # 1.5 % above the reference: off-market
    lars.fill("#id_book-counterparty", "Nordbank AG")
    lars.fill("#id_book-trade_date", today)
    lars.fill("#id_book-value_date", today)
    screenshot(lars, "trading-book")
    lars.get_by_role("button", name="Book", exact=True).click()
    expect(lars.get_by_text("The trade is booked.")).to_be_visible()
    trade = Trade.objects.get()
    expect(lars.locator("#trades")).to_contain_text("off_market")
    lars.goto(f"{live_bank}/trading/trades/{trade.pk}/")
    expect(lars.locator("#confirm")).to_have_count(0)  # not the trader's step
    expect(lars.locator("#close")).to_have_count(0)

    mara = session("mara.busch", language="de")
    mara.goto(f"{live_bank}/trading/trades/{trade.pk}/")
    mara.select_option("#id_confirm-side", "sell")  # the counterparty sold
    mara.fill("#id_confirm-quantity", "250000")
    mara.fill("#id_confirm-price", "101.50")
    mara.fill("#id_confirm-trade_date", today)
    mara.fill("#id_confirm-value_date", today)
    mara.get_by_role("button", name="Abgleichen und bestätigen").click()
    mara.wait_for_url(re.compile(rf"/trading/trades/{trade.pk}/$"))
    expect(mara.get_by_text("Die Bestätigung der Gegenpartei wurde mit dem")).to_be_visible()
    expect(mara.locator("#trade")).to_contain_text("abgeglichen")  # the match status
    expect(mara.locator("#confirm")).to_have_count(0)  # confirmed once, for good
    expect(mara.locator("#close")).to_have_count(0)  # settlement does not close it
    screenshot(mara, "trading-confirmed-de")

    control = session("ben.krause", language="en")
    control.goto(f"{live_bank}/trading/trades/{trade.pk}/")
    control.fill("#id_close-reason", "Illiquid afternoon; price confirmed by two brokers.")
    control.get_by_role("button", name="Close with this reason").click()
    expect(control.get_by_text("The off-market trade is closed.")).to_be_visible()
    control.goto(f"{live_bank}/trading/reports/off-market/")
    expect(control.locator("table")).to_contain_text("ben.krause")
    expect(control.locator("table")).to_contain_text("two brokers")
    screenshot(control, "trading-off-market-report")
    trade.refresh_from_db()
    assert (trade.confirmation, trade.market_check, trade.closed_by.username) == (
        "confirmed",
        "closed",
        "ben.krause",
    )
