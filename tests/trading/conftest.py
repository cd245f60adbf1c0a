"""The demo bank's trading floor through the API: traders, settlement, trade control."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.cases.conftest import Person

People = Callable[[str], Person]

TRADER, TRADER_2 = "lars.vogt", "emma.berger"  # rates desk, equity desk
SETTLEMENT = "mara.busch"
TRADE_CONTROL = "ben.krause"
RISK_CONTROL = "katharina.braun"
MOVER = "tobias.kraus"  # moved from the equity desk to settlement (COOL-1)
BUND = "DE0001102580"  # government bonds: tolerance 0.5 %
SAP = "DE0007164600"  # equities: tolerance 2 %


@pytest.fixture
def person(demo_bank: Any) -> People:
    return Person


def today() -> date:
    return timezone.localdate()


def terms(instrument: str = BUND, price: str = "100.00", **extra: Any) -> dict[str, Any]:
    day = today().isoformat()
    return {
        "instrument": instrument,
        "side": "buy",
        "quantity": "1000000",
        "price": price,
        "counterparty": "Nordbank AG",
        "trade_date": day,
        "value_date": (today() + timedelta(days=2)).isoformat(),
    } | extra


def their_side(booked: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The counterparty's confirmation of a trade we booked: their side is the mirror."""
    body = {k: booked[k] for k in ("instrument", "quantity", "price", "counterparty")}
    body |= {
        "side": "sell" if booked["side"] == "buy" else "buy",
        "trade_date": booked["trade_date"],
        "value_date": booked["value_date"],
    }
    return body | extra


def book(person: People, who: str = TRADER, **extra: Any) -> dict[str, Any]:
    response = person(who).post("/trading/trades", terms(**extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def prices_csv(*rows: tuple[str, date, str]) -> str:
    return "instrument,date,price\n" + "".join(f"{i},{d.isoformat()},{p}\n" for i, d, p in rows)


def import_prices(person: People, text: str, who: str = TRADE_CONTROL) -> Any:
    return person(who).post(
        "/trading/reference-prices", {"filename": "prices.csv", "content": text}
    )


def confirmations_csv(*rows: dict[str, Any]) -> str:
    head = "trade,instrument,side,quantity,price,trade_date,value_date,counterparty\n"
    return head + "".join(
        ",".join(
            str(r[c])
            for c in (
                "trade",
                "instrument",
                "side",
                "quantity",
                "price",
                "trade_date",
                "value_date",
                "counterparty",
            )
        )
        + "\n"
        for r in rows
    )
