"""Trading and settlement (#17): pure rules over plain data; the ``trading`` app persists.

Rules, with their ids (RULES.md §1.6 and docs/securities.md):

- TRD-1: nobody holds two of trader, settlement clerk, trade controller and risk
  controller (an SSD constraint in the policy's ``access`` section).
- TRD-2: only settlement sets a trade's confirmation and match status, and only after
  matching the trade against the counterparty's confirmation (``match_terms``).
- TRD-3: a price further from the day's reference price than the asset class's tolerance
  is ``off_market`` (``market_check``); only trade control or risk control closes it,
  with a reason.
- TRD-4: a booked trade is immutable for the trader; a correction cancels and rebooks it,
  released by settlement (the ``trade-correction`` process). A booking after the
  policy's cut-off on the trade date (or on a later day) is flagged ``late``.
- COOL-1: a trader who moved to settlement does not confirm trades of their former desk
  for the policy's period (``core.cooling``, the rule credit uses too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field
from typing_extensions import override

from backoffice.core.cooling import CoolingOffSpec
from backoffice.core.errors import Denied
from backoffice.core.spec import Currency, Key, Spec

__all__ = [
    "AssetClassSpec",
    "InstrumentSpec",
    "TradingPolicy",
    "trading_problems",
    "Side",
    "MarketCheck",
    "Terms",
    "market_check",
    "deviation_pct",
    "is_late",
    "match_terms",
    "check_booking",
    "check_close_off_market",
    "InputError",
    "InputProblem",
    "ConfirmationRow",
    "PriceRow",
    "parse_confirmations",
    "parse_reference_prices",
    "BOOK",
    "CONFIRM",
    "CONTROL",
]

#: permissions: book trades (traders), confirm and match (settlement), close off-market
#: trades and import reference prices (trade control, risk control)
BOOK = "trade.enter"
CONFIRM = "trade.confirm"
CONTROL = "trade.control"


class AssetClassSpec(Spec):
    """TRD-3: how far a price may be from the reference price, in percent of it."""

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    tolerance_pct: Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]


class InstrumentSpec(Spec):
    id: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9.-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    asset_class: Key
    currency: Currency = "EUR"


class TradingPolicy(Spec):
    """The ``trading:`` section of a policy file (see docs/securities.md)."""

    #: TRD-4: bookings after this local time on the trade date (or any later day) are late
    cut_off: time = time(17, 30)
    asset_classes: Annotated[list[AssetClassSpec], Field(min_length=1)]
    instruments: Annotated[list[InstrumentSpec], Field(min_length=1)]
    #: COOL-1 for trade confirmations; strict: every trade of the former desk
    cooling_off: CoolingOffSpec = CoolingOffSpec(strict=True)

    def instrument(self, instrument_id: str) -> InstrumentSpec | None:
        return next((i for i in self.instruments if i.id == instrument_id), None)

    def tolerance(self, asset_class: str) -> Decimal:
        return next(a.tolerance_pct for a in self.asset_classes if a.id == asset_class)


Path = tuple[str | int, ...]


def trading_problems(spec: TradingPolicy) -> Iterator[tuple[Path, str]]:
    """Reference problems of the trading section as ``(path inside it, message)``."""
    classes = [a.id for a in spec.asset_classes]
    for index, asset_class in enumerate(spec.asset_classes):
        if asset_class.id in classes[:index]:
            yield ("asset_classes", index, "id"), f"duplicate asset class {asset_class.id!r}"
    seen: set[str] = set()
    for index, instrument in enumerate(spec.instruments):
        if instrument.id in seen:
            yield ("instruments", index, "id"), f"duplicate instrument {instrument.id!r}"
        seen.add(instrument.id)
        if instrument.asset_class not in classes:
            yield (
                ("instruments", index, "asset_class"),
                f"unknown asset class {instrument.asset_class!r}",
            )


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class MarketCheck(StrEnum):
    """TRD-3: the outcome of the market-conformity check."""

    UNCHECKED = "unchecked"  # no reference price for the instrument and trade date yet
    CONFORM = "conform"
    OFF_MARKET = "off_market"
    CLOSED = "closed"  # off-market, closed by trade or risk control with a reason


def deviation_pct(price: Decimal, reference: Decimal) -> Decimal:
    """How far ``price`` is from ``reference``, in percent of the reference (unsigned)."""
    return abs(price - reference) * 100 / reference


def market_check(price: Decimal, reference: Decimal | None, tolerance_pct: Decimal) -> MarketCheck:
    """TRD-3: within the tolerance (inclusive) is conform; beyond it, off-market."""
    if reference is None:
        return MarketCheck.UNCHECKED
    if abs(price - reference) * 100 <= tolerance_pct * reference:  # exact: no division
        return MarketCheck.CONFORM
    return MarketCheck.OFF_MARKET


def is_late(booked_at: datetime, trade_date: date, cut_off: time) -> bool:
    """TRD-4: booked after the cut-off on the trade date, or on a later day (local time)."""
    day = booked_at.date()
    return day > trade_date or (day == trade_date and booked_at.time() > cut_off)


@dataclass(frozen=True)
class Terms:
    """What both sides of a trade must agree on: booked by us, confirmed by them."""

    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    trade_date: date
    value_date: date
    counterparty: str


#: the fields compared in matching, in the order a mismatch names them
MATCHED_FIELDS = (
    "instrument",
    "side",
    "quantity",
    "price",
    "trade_date",
    "value_date",
    "counterparty",
)


def match_terms(ours: Terms, theirs: Terms) -> tuple[str, ...]:
    """TRD-2: the fields in which the counterparty's confirmation differs from our booking
    (empty: matched). Their side is the mirror of ours: our buy is their sell."""
    differ = []
    for name in MATCHED_FIELDS:
        mine, other = getattr(ours, name), getattr(theirs, name)
        if name == "side":
            other = Side.SELL if other == Side.BUY else Side.BUY
        if name == "counterparty":
            mine, other = mine.strip().casefold(), other.strip().casefold()
        if mine != other:
            differ.append(name)
    return tuple(differ)


def check_booking(
    policy: TradingPolicy, terms: Terms, today: date, permissions: Collection[str]
) -> Denied | None:
    """Who books (traders) and what a booking must say."""
    if BOOK not in permissions:
        return Denied("trading.forbidden", "Only traders book trades (permission trade.enter).")
    if policy.instrument(terms.instrument) is None:
        return Denied("trading.invalid", f"There is no instrument {terms.instrument!r}.")
    if terms.quantity <= 0 or terms.price <= 0:
        return Denied("trading.invalid", "Quantity and price must be positive.")
    if terms.trade_date > today:
        return Denied("trading.invalid", "A trade is booked on or after its trade date.")
    if terms.value_date < terms.trade_date:
        return Denied("trading.invalid", "The value date is on or after the trade date.")
    if not terms.counterparty.strip():
        return Denied("trading.invalid", "Name the counterparty.")
    return None


def check_close_off_market(
    status: str, check: MarketCheck, permissions: Collection[str], reason: str
) -> Denied | None:
    """TRD-3: only trade control or risk control closes an off-market trade, with a reason."""
    if CONTROL not in permissions:
        return Denied(
            "trading.forbidden",
            "Only trade control or risk control closes an off-market trade (TRD-3).",
        )
    if check != MarketCheck.OFF_MARKET or status != "booked":
        return Denied("trading.not_off_market", "This trade is not open as off-market.")
    if not reason.strip():
        return Denied("trading.invalid", "Say why the off-market price is acceptable.")
    return None


# -- CSV input: every bad row is named; nothing is taken from a file with one ----------


@dataclass(frozen=True)
class InputProblem:
    """A bad row of an imported file: where (file, line) and which field."""

    file: str
    line: int
    field: str
    message: str

    @override
    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def as_error(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "msg": self.message}


@dataclass(frozen=True)
class ConfirmationRow:
    line: int
    trade: int
    terms: Terms


@dataclass(frozen=True)
class PriceRow:
    line: int
    instrument: str
    day: date
    price: Decimal


CONFIRMATION_COLUMNS = ("trade", *MATCHED_FIELDS)
PRICE_COLUMNS = ("instrument", "date", "price")


class _Row:
    """One data row, its fields read with the problems they have collected."""

    def __init__(self, name: str, line: int, values: Mapping[str, str | None]) -> None:
        self.name, self.line, self.values = name, line, values
        self.problems: list[InputProblem] = []

    def bad(self, field: str, message: str) -> None:
        self.problems.append(InputProblem(self.name, self.line, field, message))

    def text(self, field: str) -> str:
        value = (self.values.get(field) or "").strip()
        if not value:
            self.bad(field, "missing")
        return value

    def day(self, field: str) -> date:
        value = self.text(field)
        try:
            return date.fromisoformat(value)
        except ValueError:
            if value:
                self.bad(field, f"not a date (YYYY-MM-DD): {value[:40]!r}")
            return date.min

    def number(self, field: str, *, integer: bool = False) -> Decimal:
        value = self.text(field)
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if value and (not number.is_finite() or number <= 0 or number > Decimal("1e12")):
            self.bad(field, f"not a positive number: {value[:40]!r}")
            return Decimal(1)
        if value and integer and number != number.to_integral_value():
            self.bad(field, f"not a whole number: {value[:40]!r}")
        return number if number.is_finite() else Decimal(1)


def _rows(text: str, name: str, columns: tuple[str, ...]) -> Iterator[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        problem = InputProblem(name, 1, missing[0], "column missing from the header")
        raise InputError([problem])
    for values in reader:
        row = _Row(name, reader.line_num, values)
        if None in values:  # more cells than the header has columns
            row.bad("", "more cells than the header has columns")
        yield row


class InputError(ValueError):
    """The file has bad rows; the first is named first. Nothing of it may be taken."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_confirmations(
    text: str, name: str, instruments: Collection[str]
) -> list[ConfirmationRow]:
    """The counterparty's confirmations: ``trade`` (our trade number) and their terms."""
    found: list[ConfirmationRow] = []
    problems: list[InputProblem] = []
    for row in _rows(text, name, CONFIRMATION_COLUMNS):
        trade_text = row.text("trade")
        if trade_text and not (trade_text.isdigit() and 0 < int(trade_text) < 2**62):
            row.bad("trade", f"not a trade number: {trade_text[:40]!r}")
        instrument = row.text("instrument")
        if instrument and instrument not in instruments:
            row.bad("instrument", f"unknown instrument {instrument[:40]!r}")
        side_text = row.text("side")
        if side_text and side_text not in {s.value for s in Side}:
            row.bad("side", f"not buy or sell: {side_text[:40]!r}")
        terms = Terms(
            instrument=instrument,
            side=Side(side_text) if side_text in {s.value for s in Side} else Side.BUY,
            quantity=row.number("quantity"),
            price=row.number("price"),
            trade_date=row.day("trade_date"),
            value_date=row.day("value_date"),
            counterparty=row.text("counterparty")[:200],
        )
        problems += row.problems
        if not row.problems:
            found.append(ConfirmationRow(row.line, int(trade_text), terms))
    if problems:
        raise InputError(problems)
    seen: dict[int, int] = {}
    for confirmation in found:
        if confirmation.trade in seen:
            raise InputError(
                [
                    InputProblem(
                        name,
                        confirmation.line,
                        "trade",
                        f"trade {confirmation.trade} is already on line {seen[confirmation.trade]}",
                    )
                ]
            )
        seen[confirmation.trade] = confirmation.line
    return found


def parse_reference_prices(text: str, name: str, instruments: Collection[str]) -> list[PriceRow]:
    """Reference prices: one per ``instrument`` and ``date`` (TRD-3)."""
    found: list[PriceRow] = []
    problems: list[InputProblem] = []
    seen: dict[tuple[str, date], int] = {}
    for row in _rows(text, name, PRICE_COLUMNS):
        instrument = row.text("instrument")
        if instrument and instrument not in instruments:
            row.bad("instrument", f"unknown instrument {instrument[:40]!r}")
        day = row.day("date")
        price = row.number("price")
        key = (instrument, day)
        if not row.problems and key in seen:
            row.bad("date", f"{instrument} on {day} is already on line {seen[key]}")
        problems += row.problems
        if not row.problems:
            seen[key] = row.line
            found.append(PriceRow(row.line, instrument, day, price))
    if problems:
        raise InputError(problems)
    return found
