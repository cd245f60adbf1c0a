"""The trading API's bodies and rows (#17)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from backoffice.core.trading import Side, Terms

__all__ = ["TermsIn", "TradeOut", "CloseIn", "ImportIn", "ImportOut"]


class TermsIn(Schema):
    """A trade's terms: booked by a trader, or as the counterparty confirmed them."""

    instrument: str = Field(..., max_length=32)
    side: Literal["buy", "sell"]
    quantity: Decimal = Field(..., gt=0, max_digits=16, decimal_places=4)
    price: Decimal = Field(..., gt=0, max_digits=18, decimal_places=6)
    counterparty: str = Field(..., min_length=1, max_length=200)
    trade_date: date
    value_date: date

    def terms(self) -> Terms:
        return Terms(
            instrument=self.instrument,
            side=Side(self.side),
            quantity=self.quantity,
            price=self.price,
            trade_date=self.trade_date,
            value_date=self.value_date,
            counterparty=self.counterparty,
        )


class TradeOut(Schema):
    id: int
    instrument: str
    asset_class: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    counterparty: str
    trade_date: date
    value_date: date
    desk: str
    booked_by: str
    booked_at: datetime
    late: bool
    status: str
    replaces: int | None
    confirmation: str
    match: str
    mismatched_fields: str
    confirmed_by: str | None
    confirmed_at: datetime | None
    market_check: str
    reference_price: Decimal | None
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str


class CloseIn(Schema):
    reason: str = Field(..., max_length=2000)


class ImportIn(Schema):
    """A CSV file as text, with the name its rows are reported under."""

    filename: str = Field("upload.csv", min_length=1, max_length=200)
    content: str = Field(..., max_length=5_000_000)


class ImportOut(Schema):
    imported: int
    trades: list[int] = []


class UnconfirmedOut(Schema):
    id: int
    age_days: int
    trade_date: date
    value_date: date
    instrument: str
    side: str
    quantity: Decimal
    price: Decimal
    counterparty: str
    desk: str
    booked_by: str
    match: str
    mismatched_fields: str


class OffMarketOut(Schema):
    id: int
    trade_date: date
    instrument: str
    asset_class: str
    side: str
    price: Decimal
    reference_price: Decimal | None
    deviation_pct: Decimal | None
    booked_by: str
    open: bool
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str


class CorrectionsOut(Schema):
    trader: str
    trades: int
    cancelled: int
    rebooked: int


class LateOut(Schema):
    id: int
    trade_date: date
    booked_at: datetime
    booked_by: str
    desk: str
    instrument: str
    side: str
    quantity: Decimal
    price: Decimal
    status: str
