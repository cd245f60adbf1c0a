"""The pure rules of #17: research positions (RES-3, RES-4), the fact-check version (RES-2),
the pre-clearance of personal orders (PAD-1, PAD-2, PAD-4, PAD-5), quarters, and the
insider list templates of Regulation (EU) 2016/347."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.insider_list import (
    DEAL_FIELDS,
    PERMANENT_FIELDS,
    InsiderPerson,
    ListSection,
    section_rows,
    split_name,
    template_time,
)
from backoffice.core.pad import (
    Order,
    PastOrder,
    Recommendation,
    Side,
    preclear,
    quarter_bounds,
    quarter_of,
)
from backoffice.core.research import (
    CrossingSpan,
    QuietPeriods,
    Underwriting,
    check_fact_check,
    check_research_position,
    check_underwriting_quiet,
    fact_check_version,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
QUIET = QuietPeriods(after_crossing_days=10, after_underwriting_days=5)


@given(
    start=st.integers(min_value=-100, max_value=100),
    length=st.integers(min_value=1, max_value=30),
    asked=st.integers(min_value=-150, max_value=150),
)
def test_a_crossed_analyst_is_private_side_exactly_from_the_crossing_to_its_quiet_end(
    start: int, length: int, asked: int
) -> None:
    begin = T0 + timedelta(days=start)
    span = CrossingSpan("nordbank", begin, begin + timedelta(days=length))
    at = T0 + timedelta(days=asked)
    refused = check_research_position("nordbank", [span], at, QUIET)
    inside = begin <= at < span.end + timedelta(days=QUIET.after_crossing_days)
    assert (refused is not None) == inside
    assert check_research_position("autowerk", [span], at, QUIET) is None  # that issuer only


def test_someone_else_hears_only_that_the_author_may_not() -> None:
    span = CrossingSpan("nordbank", T0, T0 + timedelta(days=3))
    refused = check_research_position("nordbank", [span], T0, QUIET, own=False, name="lisa")
    assert refused is not None and refused.code == "research.private_side"
    assert "lisa" in refused.message and "UTC" not in refused.message  # no dates of the deal


def test_an_underwriting_is_quiet_from_its_announcement_to_days_after_it_closed() -> None:
    deal = Underwriting("nordbank", announced=T0, closed=T0 + timedelta(days=20))
    quiet = [T0, T0 + timedelta(days=20), T0 + timedelta(days=24, hours=23)]
    loud = [T0 - timedelta(minutes=1), T0 + timedelta(days=25)]
    assert all(check_underwriting_quiet("nordbank", [deal], at, QUIET) for at in quiet)
    assert not any(check_underwriting_quiet("nordbank", [deal], at, QUIET) for at in loud)
    confidential = Underwriting("nordbank", announced=None)
    assert check_underwriting_quiet("nordbank", [confidential], T0, QUIET) is None  # CW-4


def test_the_fact_check_version_holds_neither_rating_nor_target_nor_valuation() -> None:
    draft = {
        "issuer": "nordbank",
        "headline": "Strong",
        "rating": "buy",
        "price_target": "EUR 12",
        "valuation": "DCF",
        "summary": "Fees grow.",
    }
    version = fact_check_version(draft)
    assert set(version) == {"issuer", "headline", "summary"}
    assert check_fact_check(draft, version) is None
    assert check_fact_check(draft, version | {"rating": "buy"}) is not None
    leaky = fact_check_version(draft | {"summary": "Our target is EUR 12."})
    assert check_fact_check(draft, leaky) is not None
    called = fact_check_version(draft | {"summary": "We keep our Buy rating."})
    assert check_fact_check(draft, called) is not None
    verb = fact_check_version(draft | {"summary": "Customers buy more."})
    assert check_fact_check(draft, verb) is None  # "buy" as a verb gives no view away


def test_the_restricted_list_blocks_and_the_watch_list_alerts() -> None:
    blocked = preclear(
        Order("nordbank", Side.BUY, T0),
        restricted={"nordbank"},
        watched={"nordbank"},
        history=[],
        research=[],
        holding_days=30,
    )
    assert not blocked.executed and blocked.refusal and blocked.refusal.code == "pad.restricted"
    alerted = preclear(
        Order("nordbank", Side.BUY, T0),
        restricted=set(),
        watched={"nordbank"},
        history=[],
        research=[],
        holding_days=30,
    )
    assert alerted.executed and alerted.alert and alerted.refusal is None
    assert "watch" not in str(alerted).lower().replace("alert", "")


@given(
    days_before=st.integers(min_value=0, max_value=90),
    holding=st.integers(min_value=0, max_value=60),
    side=st.sampled_from(list(Side)),
    earlier=st.sampled_from(list(Side)),
)
def test_the_holding_period_blocks_only_an_opposite_order_within_it(
    days_before: int, holding: int, side: Side, earlier: Side
) -> None:
    past = PastOrder("nordbank", earlier, T0 - timedelta(days=days_before))
    decision = preclear(
        Order("nordbank", side, T0),
        restricted=set(),
        watched=set(),
        history=[past],
        research=[],
        holding_days=holding,
    )
    blocked = earlier != side and days_before < holding
    assert decision.executed == (not blocked)
    if blocked:
        assert decision.refusal is not None and decision.refusal.code == "pad.holding_period"


@given(rating=st.sampled_from(["buy", "hold", "sell"]), side=st.sampled_from(list(Side)))
def test_an_analyst_never_trades_against_their_published_view(rating: str, side: Side) -> None:
    mine = [Recommendation("nordbank", rating, True, T0 - timedelta(days=1))]
    decision = preclear(
        Order("nordbank", side, T0),
        restricted=set(),
        watched=set(),
        history=[],
        research=mine,
        holding_days=30,
    )
    against = (rating, side) in {("buy", Side.SELL), ("sell", Side.BUY)}
    assert decision.executed == (not against)
    ahead = preclear(
        Order("nordbank", side, T0),
        restricted=set(),
        watched=set(),
        history=[],
        research=[*mine, Recommendation("nordbank", rating, False, T0)],
        holding_days=30,
    )
    assert ahead.refusal is not None and ahead.refusal.code == "pad.front_running"


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_day_lies_in_its_quarter(day: date) -> None:
    year, quarter = quarter_of(day)
    start, end = quarter_bounds(year, quarter)
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    assert start <= moment < end and (end - start).days in range(90, 93)


def test_the_templates_rows_and_times() -> None:
    assert template_time(datetime(2026, 3, 1, 9, 5, tzinfo=UTC)) == "2026-03-01, 09:05 UTC"
    assert split_name("Dr. Max Weber", "max.weber") == ("Dr. Max", "Weber")
    person = InsiderPerson("Laura", "Lange", "Musterbank AG", "deal team", T0, T0 + timedelta(1))
    deal = section_rows(ListSection("Falcon", T0, T0), [person])
    assert deal[4] == list(DEAL_FIELDS) and len(deal[5]) == len(DEAL_FIELDS)
    assert deal[5][6:8] == ["2026-03-01, 09:00 UTC", "2026-03-02, 09:00 UTC"]
    permanent = section_rows(ListSection("", T0, T0, permanent=True), [person])
    assert permanent[4] == list(PERMANENT_FIELDS) and len(permanent[5]) == len(PERMANENT_FIELDS)
    assert permanent[0] == ["Insider list: permanent insiders"]


@given(
    summary=st.text(max_size=80),
    headline=st.text(max_size=40),
    target=st.text(min_size=1, max_size=12).filter(str.strip),
    valuation=st.text(min_size=1, max_size=12).filter(str.strip),
)
def test_what_is_sent_never_holds_the_target_or_the_valuation(
    summary: str, headline: str, target: str, valuation: str
) -> None:
    draft = {
        "issuer": "nordbank",
        "headline": headline,
        "summary": summary,
        "rating": "hold",
        "price_target": target,
        "valuation": valuation,
    }
    version = fact_check_version(draft)
    if check_fact_check(draft, version) is None:
        text = f"{version['headline']}\n{version['summary']}".casefold()
        assert target.strip().casefold() not in text
        assert valuation.strip().casefold() not in text
        assert set(version) == {"issuer", "headline", "summary"}
