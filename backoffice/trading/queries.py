"""Checked reads of trades and the trading reports (API, CSV and HTML share them).

Trades are read by the desks, settlement, trade and risk control and those with
``reports.read``; the reports by settlement, control and ``reports.read`` (board,
compliance, internal audit). Anyone else gets ``trading.forbidden``, on record.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet

from backoffice.base.actor import Actor
from backoffice.base.sorting import Sorting
from backoffice.core.errors import Denied, DomainError
from backoffice.core.trading import BOOK, CONFIRM, CONTROL, MarketCheck, deviation_pct
from backoffice.credit.queries import Report
from backoffice.trading.models import Trade
from backoffice.trading.services import refuse

__all__ = [
    "TRADE_READERS",
    "REPORT_READERS",
    "access_trades",
    "access_trade_by_id",
    "get_trades",
    "trade_row",
    "get_unconfirmed",
    "get_off_market",
    "get_corrections",
    "get_late",
]

TRADE_READERS = frozenset({BOOK, CONFIRM, CONTROL, "reports.read"})
REPORT_READERS = frozenset({CONFIRM, CONTROL, "reports.read"})

TRADE_ORDER = ("-pk",)

#: #19: the trades list's sortable columns
TRADE_SORTING = Sorting(
    Trade,
    {
        "trade": ("pk",),
        "trade_date": ("trade_date",),
        "instrument": ("instrument",),
        "side": ("side",),
        "quantity": ("quantity",),
        "price": ("price",),
        "counterparty": ("counterparty",),
        "booked_by": ("booked_by__username",),
        "status": ("status",),
    },
    TRADE_ORDER,
    descending_first=frozenset({"trade", "trade_date"}),
)


def access_trades(actor: Actor) -> None:
    if not TRADE_READERS & actor.permissions:
        raise refuse(
            actor,
            Denied(
                "trading.forbidden",
                "Trades are for the trading desks, settlement, trade and risk control.",
            ),
            "trade:list",
        )


def access_reports(actor: Actor, name: str) -> None:
    if not REPORT_READERS & actor.permissions:
        raise refuse(
            actor,
            Denied(
                "trading.forbidden",
                "The trading reports are for settlement, trade and risk control, compliance, "
                "internal audit and the board.",
            ),
            f"report:{name}",
        )


def _trades() -> QuerySet[Trade]:
    return Trade.objects.select_related("desk", "booked_by", "confirmed_by", "closed_by")


def access_trade_by_id(actor: Actor, trade_id: int) -> Trade:
    access_trades(actor)
    trade = _trades().filter(pk=trade_id).first()
    if trade is None:
        raise DomainError("trading.not_found", f"There is no trade {trade_id}.")
    return trade


def trade_row(trade: Trade) -> dict[str, Any]:
    return {
        "id": trade.pk,
        "instrument": trade.instrument,
        "asset_class": trade.asset_class,
        "side": trade.side,
        "quantity": trade.quantity,
        "price": trade.price,
        "currency": trade.currency,
        "counterparty": trade.counterparty,
        "trade_date": trade.trade_date,
        "value_date": trade.value_date,
        "desk": trade.desk.key,
        "booked_by": trade.booked_by.username,
        "booked_at": trade.booked_at,
        "late": trade.late,
        "status": trade.status,
        "replaces": trade.replaces_id,
        "confirmation": trade.confirmation,
        "match": trade.match,
        "mismatched_fields": trade.mismatched_fields,
        "confirmed_by": trade.confirmed_by.username if trade.confirmed_by else None,
        "confirmed_at": trade.confirmed_at,
        "market_check": trade.market_check,
        "reference_price": trade.reference_price,
        "closed_by": trade.closed_by.username if trade.closed_by else None,
        "closed_at": trade.closed_at,
        "close_reason": trade.close_reason,
    }


def get_trades(actor: Actor) -> Report[Trade]:
    access_trades(actor)
    return Report(
        "Trades",
        "Every trade booked, newest first.",
        _TRADE_COLUMNS,
        _trades(),
        TRADE_ORDER,
        trade_row,
    )


_TRADE_COLUMNS = (
    "id",
    "instrument",
    "side",
    "quantity",
    "price",
    "counterparty",
    "trade_date",
    "value_date",
    "desk",
    "booked_by",
    "late",
    "status",
    "confirmation",
    "match",
    "market_check",
)


def get_unconfirmed(actor: Actor, today: date) -> Report[Trade]:
    """TRD-2: booked trades not yet confirmed, oldest first, with their age in days."""
    access_reports(actor, "unconfirmed")

    def row(trade: Trade) -> dict[str, Any]:
        return trade_row(trade) | {"age_days": (today - trade.trade_date).days}

    return Report(
        "Unconfirmed trades by age",
        "Booked trades settlement has not confirmed yet, oldest first (TRD-2).",
        (
            "id",
            "age_days",
            "trade_date",
            "value_date",
            "instrument",
            "side",
            "quantity",
            "price",
            "counterparty",
            "desk",
            "booked_by",
            "match",
            "mismatched_fields",
        ),
        _trades().filter(status=Trade.Status.BOOKED, confirmation=Trade.Confirmation.UNCONFIRMED),
        ("trade_date", "pk"),
        row,
    )


def _off_market_row(trade: Trade) -> dict[str, Any]:
    reference = trade.reference_price
    deviation = (
        deviation_pct(trade.price, reference).quantize(Decimal("0.01")) if reference else None
    )
    return trade_row(trade) | {
        "deviation_pct": deviation,
        "open": trade.market_check == MarketCheck.OFF_MARKET.value,
    }


def get_off_market(actor: Actor) -> Report[Trade]:
    """TRD-3: trades outside the tolerance, and who closed them with which reason."""
    access_reports(actor, "off-market")
    return Report(
        "Off-market trades",
        "Trades whose price was outside the asset class's tolerance around the reference "
        "price, and who in trade or risk control closed them, with the reason (TRD-3).",
        (
            "id",
            "trade_date",
            "instrument",
            "asset_class",
            "side",
            "price",
            "reference_price",
            "deviation_pct",
            "booked_by",
            "open",
            "closed_by",
            "closed_at",
            "close_reason",
        ),
        _trades().filter(market_check__in=[MarketCheck.OFF_MARKET.value, MarketCheck.CLOSED.value]),
        ("trade_date", "pk"),
        _off_market_row,
    )


def get_corrections(actor: Actor) -> Report[Any]:
    """TRD-4: per trader, how many of their trades were cancelled and how many rebooked."""
    access_reports(actor, "corrections")
    grouped = (
        Trade.objects.values("booked_by__username")
        .annotate(
            cancelled=Count("pk", filter=Q(status=Trade.Status.CANCELLED)),
            rebooked=Count("pk", filter=Q(replaces__isnull=False)),
            trades=Count("pk"),
        )
        .filter(Q(cancelled__gt=0) | Q(rebooked__gt=0))
    )
    return Report(
        "Cancels and rebooks per trader",
        "Each trader's trades cancelled and rebooked by released correction cases (TRD-4).",
        ("trader", "trades", "cancelled", "rebooked"),
        grouped,
        ("booked_by__username",),
        lambda r: {
            "trader": r["booked_by__username"],
            "trades": r["trades"],
            "cancelled": r["cancelled"],
            "rebooked": r["rebooked"],
        },
    )


def get_late(actor: Actor) -> Report[Trade]:
    """TRD-4: trades booked after the cut-off on their trade date, or on a later day."""
    access_reports(actor, "late")
    return Report(
        "Late trades",
        "Trades booked after the policy's cut-off on their trade date or on a later day (TRD-4).",
        (
            "id",
            "trade_date",
            "booked_at",
            "booked_by",
            "desk",
            "instrument",
            "side",
            "quantity",
            "price",
            "status",
        ),
        _trades().filter(late=True),
        ("trade_date", "pk"),
        trade_row,
    )
