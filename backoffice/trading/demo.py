"""The demo bank's trading floor (#17), made through the real services: trades on both
desks, reference prices, a few off-market and unconfirmed trades, a late booking and a
released correction, so that every trading report shows something."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.base.context import request_scope
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from backoffice.core.trading import Side, Terms
from backoffice.trading.models import ReferencePrice, Trade
from backoffice.trading.services import (
    do_book_trade,
    do_close_off_market,
    do_confirm_trade,
    do_import_reference_prices,
    terms_of,
)

__all__ = ["seed_demo_trading"]

BUND, BOBL, NORDBANK, SAP, MERCEDES = (
    "DE0001102580",
    "DE0001141869",
    "XS2391790610",
    "DE0007164600",
    "DE0007100000",
)

#: the reference price of each instrument (the same on each demo day)
REFERENCE = {
    BUND: Decimal("98.40"),
    BOBL: Decimal("100.10"),
    NORDBANK: Decimal("95.20"),
    SAP: Decimal("182.50"),
    MERCEDES: Decimal("61.30"),
}

#: (trader, days before today, instrument, side, quantity, price, counterparty, confirm?)
TRADES: list[tuple[str, int, str, Side, str, str, str, bool]] = [
    ("lars.vogt", 6, BUND, Side.BUY, "5000000", "98.35", "Nordbank AG", True),
    ("lars.vogt", 5, BOBL, Side.SELL, "2000000", "100.05", "Rheinische Handelsbank AG", True),
    ("lars.vogt", 4, NORDBANK, Side.BUY, "1000000", "97.10", "Hanse Kreditbank AG", False),
    ("emma.berger", 4, SAP, Side.BUY, "12000", "182.00", "Nordbank AG", True),
    ("emma.berger", 3, MERCEDES, Side.SELL, "40000", "58.90", "Rheinische Handelsbank AG", False),
    ("lars.vogt", 2, BUND, Side.SELL, "3000000", "98.50", "Hanse Kreditbank AG", False),
    ("emma.berger", 1, SAP, Side.SELL, "8000", "183.10", "Hanse Kreditbank AG", False),
    ("lars.vogt", 1, BOBL, Side.BUY, "1500000", "100.20", "Nordbank AG", False),
]


def _actor(username: str) -> Actor:
    return Actor(get_user_model().objects.get(username=username))


def _prices(days: list[date]) -> str:
    rows = [f"{i},{d.isoformat()},{p}" for d in days for i, p in REFERENCE.items()]
    return "instrument,date,price\n" + "\n".join(rows) + "\n"


def seed_demo_trading() -> int:
    """Once: the demo trades and what settlement and control did to them; how many trades."""
    if Trade.objects.exists() or ReferencePrice.objects.exists():
        return 0
    today = timezone.localdate()
    with request_scope():
        do_import_reference_prices(
            _actor("ben.krause"),
            _prices([today - timedelta(days=d) for d in range(7)]),
            "demo-reference-prices.csv",
        )
        booked = []
        for trader, ago, instrument, side, quantity, price, counterparty, confirm in TRADES:
            terms = Terms(
                instrument,
                side,
                Decimal(quantity),
                Decimal(price),
                today - timedelta(days=ago),
                today - timedelta(days=ago) + timedelta(days=2),
                counterparty,
            )
            booked.append((do_book_trade(_actor(trader), terms), confirm))
        mara = _actor("mara.busch")
        for trade, confirm in booked:
            if confirm:
                theirs = terms_of(trade)
                mirror = Side.SELL if theirs.side == Side.BUY else Side.BUY
                do_confirm_trade(mara, trade.pk, Terms(**{**theirs.__dict__, "side": mirror}))
        # a counterparty confirmed another price: mismatched, still unconfirmed
        disputed = booked[2][0]
        theirs = terms_of(disputed)
        do_confirm_trade(
            mara,
            disputed.pk,
            Terms(**{**theirs.__dict__, "side": Side.SELL, "price": Decimal("97.00")}),
        )
        # the Nordbank bond and the Mercedes sale were off-market; trade control closed one
        do_close_off_market(
            _actor("ben.krause"),
            booked[4][0].pk,
            "Block sale of 40,000 shares: discount agreed with the counterparty in advance.",
        )
        # a price typo corrected by cancel and rebook, released by settlement (TRD-4)
        typo = booked[5][0]
        lars = _actor("lars.vogt")
        case = do_start_case(
            lars,
            "trade-correction",
            {
                "trade": typo.pk,
                "quantity": format(typo.quantity.normalize(), "f"),
                "price": "98.45",
                "value_date": typo.value_date.isoformat(),
                "counterparty": typo.counterparty,
                "reason": "Price typo: 98.50 instead of 98.45",
            },
            submit=True,
        ).raise_if_denied()
        release = Command(CommandKind.RELEASE)
        do_command_by_id(_actor("sophie.krueger"), case.pk, release).raise_if_denied()
    return Trade.objects.count()
