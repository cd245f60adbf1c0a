"""The pure trading rules (#17): TRD-3 market conformity, TRD-4 lateness, TRD-2 matching,
COOL-1 (the one cooling-off rule of ``core.cooling``), and the CSV readers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.cooling import CoolingOffSpec, Move, cooling_off
from backoffice.core.org import Line
from backoffice.core.trading import (
    InputError,
    MarketCheck,
    Side,
    Terms,
    is_late,
    market_check,
    match_terms,
    parse_confirmations,
    parse_reference_prices,
)

prices = st.decimals(min_value="0.000001", max_value="1000000", places=6)
tolerances = st.decimals(min_value="0", max_value="100", places=4)


@given(price=prices, reference=prices, tolerance=tolerances)
def test_trd3_off_market_exactly_when_the_deviation_exceeds_the_tolerance(
    price: Decimal, reference: Decimal, tolerance: Decimal
) -> None:
    deviation = abs(Fraction(price) - Fraction(reference)) / Fraction(reference) * 100
    expected = MarketCheck.CONFORM if deviation <= Fraction(tolerance) else MarketCheck.OFF_MARKET
    assert market_check(price, reference, tolerance) == expected


@given(reference=prices, tolerance=tolerances, sign=st.sampled_from([1, -1]))
def test_trd3_a_price_exactly_at_the_tolerance_is_conform_one_step_beyond_is_not(
    reference: Decimal, tolerance: Decimal, sign: int
) -> None:
    edge = reference + sign * reference * tolerance / 100
    if edge > 0:
        assert market_check(edge, reference, tolerance) == MarketCheck.CONFORM
    beyond = edge + sign * Decimal("0.000001")
    if beyond > 0 and beyond != reference:
        assert market_check(beyond, reference, tolerance) == MarketCheck.OFF_MARKET


@given(price=prices, reference=prices, low=tolerances, high=tolerances)
def test_trd3_a_wider_tolerance_never_turns_a_conform_trade_off_market(
    price: Decimal, reference: Decimal, low: Decimal, high: Decimal
) -> None:
    low, high = min(low, high), max(low, high)
    if market_check(price, reference, low) == MarketCheck.CONFORM:
        assert market_check(price, reference, high) == MarketCheck.CONFORM


def test_trd3_without_a_reference_the_trade_is_unchecked() -> None:
    assert market_check(Decimal(100), None, Decimal(1)) == MarketCheck.UNCHECKED


def test_trd4_late_after_the_cut_off_or_on_a_later_day() -> None:
    day, cut = date(2026, 12, 4), time(17, 30)
    assert not is_late(datetime(2026, 12, 4, 17, 30), day, cut)
    assert is_late(datetime(2026, 12, 4, 17, 31), day, cut)
    assert is_late(datetime(2026, 12, 5, 9, 0), day, cut)


TERMS = Terms(
    "DE0001102580",
    Side.BUY,
    Decimal(1000),
    Decimal("100.5"),
    date(2026, 12, 4),
    date(2026, 12, 8),
    "Nordbank AG",
)


def test_trd2_their_side_is_the_mirror_and_names_compare_loosely() -> None:
    theirs = replace(TERMS, side=Side.SELL, counterparty=" nordbank ag")
    assert match_terms(TERMS, theirs) == ()
    assert match_terms(TERMS, TERMS) == ("side",)
    off = replace(theirs, price=Decimal("100.6"), value_date=date(2026, 12, 9))
    assert match_terms(TERMS, off) == ("price", "value_date")


# -- COOL-1 over random moves and trade dates ---------------------------------------------

days = st.integers(min_value=0, max_value=900)


@given(
    moved=days,
    booked_before_move=st.integers(min_value=-400, max_value=400),
    confirm_after_trade=st.integers(min_value=0, max_value=400),
    own=st.booleans(),
    former_desk=st.booleans(),
    strict=st.booleans(),
    to_audit=st.booleans(),
    period=st.integers(min_value=0, max_value=400),
)
def test_cool1_a_mover_is_barred_exactly_within_the_period_from_former_business(
    moved: int,
    booked_before_move: int,
    confirm_after_trade: int,
    own: bool,
    former_desk: bool,
    strict: bool,
    to_audit: bool,
    period: int,
) -> None:
    """A trader left their desk on ``move_on``; a trade was booked ``booked_before_move``
    days before that (negative: after) and is confirmed ``confirm_after_trade`` days after
    its trade date. Barred while the period runs, for a trade they booked before leaving,
    or in strict mode for any trade of the desk they left."""
    move_on = date(2025, 1, 1) + timedelta(days=moved)
    trade_date = move_on - timedelta(days=booked_before_move)
    today = trade_date + timedelta(days=confirm_after_trade)
    spec = CoolingOffSpec(days=period, internal_audit_days=period + 185, strict=strict)
    handled = own and former_desk and trade_date < move_on  # they booked it on that desk
    move = Move(
        "equity-desk",
        move_on,
        Line.INTERNAL_AUDIT if to_audit else Line.SETTLEMENT,
        handled=handled,
        same_unit=former_desk,
    )
    ends = move_on + timedelta(days=period + (185 if to_audit else 0))
    barred = today < ends and (handled or (strict and former_desk))
    denied = cooling_off(spec, (move,) if today >= move_on else (), today)
    assert (denied is not None) == (barred and today >= move_on)
    if denied is not None:
        assert denied.code == "sod.cooling_off" and ends.isoformat() in denied.message


# -- CSV: every bad row named, nothing taken ------------------------------------------------


def test_a_bad_price_row_is_named_by_file_line_and_field() -> None:
    text = "instrument,date,price\nDE0001102580,2026-12-04,100\n\nDE0001102580,04.12.2026,100\n"
    with pytest.raises(InputError) as raised:
        parse_reference_prices(text, "p.csv", {"DE0001102580"})
    assert str(raised.value.problems[0]).startswith("p.csv:4: date: not a date")


def test_prices_twice_for_one_day_and_unknown_instruments_are_refused() -> None:
    twice = "instrument,date,price\nA,2026-12-04,1\nA,2026-12-04,2\nB,2026-12-04,0\n"
    with pytest.raises(InputError) as raised:
        parse_reference_prices(twice, "p.csv", {"A"})
    found = [(p.line, p.field) for p in raised.value.problems]
    assert found == [(3, "date"), (4, "instrument"), (4, "price")]


def test_a_confirmation_file_needs_its_columns_and_one_row_per_trade() -> None:
    with pytest.raises(InputError) as raised:
        parse_confirmations("trade,instrument\n1,A\n", "c.csv", {"A"})
    assert (raised.value.problems[0].line, raised.value.problems[0].field) == (1, "side")
    head = "trade,instrument,side,quantity,price,trade_date,value_date,counterparty\n"
    row = "7,A,sell,10,1.5,2026-12-04,2026-12-08,X\n"
    with pytest.raises(InputError) as raised:
        parse_confirmations(head + row + row, "c.csv", {"A"})
    assert str(raised.value.problems[0]) == "c.csv:3: trade: trade 7 is already on line 2"
    [parsed] = parse_confirmations(head + row, "c.csv", {"A"})
    assert (parsed.trade, parsed.terms.side, parsed.terms.price) == (7, Side.SELL, Decimal("1.5"))
