"""The trading pages in the browser's terms (Django's test client), in English and German:
a trader books, settlement matches and confirms, trade control closes an off-market trade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backoffice.trading.models import Trade
from tests.support import html_pages
from tests.trading.conftest import (
    BUND,
    SETTLEMENT,
    TRADE_CONTROL,
    TRADER,
    People,
    book,
    import_prices,
    prices_csv,
    today,
)

REPORTS = ["unconfirmed", "off-market", "corrections", "late"]


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/trading/", *[f"/trading/reports/{r}/" for r in REPORTS]])
def test_every_trading_page_needs_a_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def booking(price: str = "100.00", **extra: str) -> dict[str, str]:
    day = today().isoformat()
    return {
        "book-instrument": BUND,
        "book-side": "buy",
        "book-quantity": "500000",
        "book-price": price,
        "book-counterparty": "Nordbank AG",
        "book-trade_date": day,
        "book-value_date": day,
    } | extra


def test_book_confirm_and_close_on_the_pages(person: People) -> None:
    import_prices(person, prices_csv((BUND, today(), "100.00")))
    lars = as_user(TRADER)
    assert 'href="/trading/"' in lars.get("/").content.decode()
    page = lars.get("/trading/").content.decode()
    assert "Book a trade" in page
    done = lars.post("/trading/", booking(price="102.00"), follow=True)
    assert "The trade is booked." in done.content.decode()
    trade = Trade.objects.get()
    assert trade.market_check == "off_market" and trade.booked_by.username == TRADER

    mara = as_user(SETTLEMENT)  # German is her language
    detail = mara.get(f"/trading/trades/{trade.pk}/").content.decode()
    assert "Bestätigung der Gegenpartei abgleichen" in detail
    assert "Off-Market-Prüfung schließen" not in detail  # not settlement's step
    theirs = {
        "confirm-instrument": BUND,
        "confirm-side": "sell",
        "confirm-quantity": "500000",
        "confirm-price": "102.00",
        "confirm-counterparty": "Nordbank AG",
        "confirm-trade_date": today().isoformat(),
        "confirm-value_date": today().isoformat(),
        "confirm": "1",
    }
    confirmed = mara.post(f"/trading/trades/{trade.pk}/", theirs, follow=True)
    assert "abgeglichen" in confirmed.content.decode()
    trade.refresh_from_db()
    assert (trade.confirmation, trade.confirmed_by.username) == ("confirmed", SETTLEMENT)
    refused = mara.post(f"/trading/trades/{trade.pk}/", {"close": "1", "close-reason": "x"})
    assert refused.status_code == 403

    ben = as_user(TRADE_CONTROL)
    detail = ben.get(f"/trading/trades/{trade.pk}/").content.decode()
    assert "Close the off-market check" in detail
    closed = ben.post(
        f"/trading/trades/{trade.pk}/",
        {"close": "1", "close-reason": "agreed block price"},
        follow=True,
    )
    assert "The off-market trade is closed." in closed.content.decode()
    trade.refresh_from_db()
    assert (trade.market_check, trade.closed_by.username) == ("closed", TRADE_CONTROL)


def test_a_booking_the_rules_refuse_shows_why(person: People) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused = as_user(TRADER).post("/trading/", booking(**{"book-trade_date": tomorrow}))
    assert refused.status_code == 422
    assert "trading.invalid" in refused.content.decode()
    assert not Trade.objects.exists()
    assert as_user(SETTLEMENT).post("/trading/", booking()).status_code == 403


def test_the_reports_are_paged_in_both_languages_with_csv(person: People) -> None:
    old = (today() - timedelta(days=3)).isoformat()
    ids = [book(person, trade_date=old)["id"] for _ in range(3)]
    for name in REPORTS:
        page = as_user("martin.jung").get(f"/trading/reports/{name}/")
        assert page.status_code == 200
        assert f"/api/v1/trading/reports/{name}?format=csv" in page.content.decode()
    german = html_pages(as_user(SETTLEMENT), "/trading/reports/unconfirmed/?limit=2")
    assert len(german) == 2
    assert "Unbestätigte Geschäfte nach Alter" in german[0][1]
    shown = [i for i in ids if any(f"<td>{i}</td>" in html for _, html in german)]
    assert shown == ids
    late = as_user("martin.jung").get("/trading/reports/late/").content.decode()
    assert "Late trades" in late and all(f"<td>{i}</td>" in late for i in ids)
    assert as_user(TRADER).get("/trading/reports/late/").status_code == 403
    assert as_user("tim.hartmann").get("/trading/").status_code == 403


def test_the_correction_case_page_shows_booked_and_corrected_terms(person: People) -> None:
    trade = book(person)
    body = {
        "trade": trade["id"],
        "quantity": "1000000",
        "price": "100.25",
        "value_date": trade["value_date"],
        "counterparty": trade["counterparty"],
        "reason": "price typo",
    }
    case = person(TRADER).start("trade-correction", body).json()
    page = as_user(SETTLEMENT).get(f"/cases/{case['id']}/").content.decode()
    assert "100 → 100.25" in page


def test_the_reports_page_lists_the_trading_reports_for_those_who_may_read_them(
    person: People,
) -> None:
    for who in ("martin.jung", SETTLEMENT, TRADE_CONTROL):
        assert 'href="/trading/reports/late/"' in as_user(who).get("/reports/").content.decode()
    assert 'href="/trading/reports/late/"' not in as_user(TRADER).get("/reports/").content.decode()
