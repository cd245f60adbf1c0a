"""The trading API (#17): each rule, and the refusal each role meets on the other side's step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.access.models import RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.org.models import Membership
from backoffice.trading.models import ReferencePrice, Trade
from tests.access.test_grants import grant
from tests.cases.conftest import problem
from tests.support import api_pages
from tests.trading.conftest import (
    BUND,
    MOVER,
    RISK_CONTROL,
    SAP,
    SETTLEMENT,
    TRADE_CONTROL,
    TRADER,
    TRADER_2,
    People,
    book,
    confirmations_csv,
    import_prices,
    prices_csv,
    terms,
    their_side,
    today,
)


def denials(who: str) -> int:
    return AuditEvent.objects.filter(action="trading.denied", actor=who).count()


def test_a_trader_books_and_the_trade_is_master_data_of_its_own(person: People) -> None:
    trade = book(person)
    assert (trade["desk"], trade["booked_by"], trade["status"]) == ("rates-desk", TRADER, "booked")
    assert (trade["confirmation"], trade["match"], trade["market_check"]) == (
        "unconfirmed",
        "unmatched",
        "unchecked",  # no reference price for today yet
    )
    assert person(SETTLEMENT).get(f"/trading/trades/{trade['id']}").json()["id"] == trade["id"]
    booked = AuditEvent.objects.get(action="trading.trade.booked", object_id=str(trade["id"]))
    assert booked.actor == TRADER and booked.after["instrument"] == BUND


def test_settlement_control_and_outsiders_do_not_book(person: People) -> None:
    for who in (SETTLEMENT, TRADE_CONTROL, RISK_CONTROL, "anna.schmidt"):
        problem(person(who).post("/trading/trades", terms()), 403, "trading.forbidden")
        assert denials(who) == 1
    assert not Trade.objects.exists()
    problem(person("tim.hartmann").get("/trading/trades"), 403, "trading.forbidden")


def test_bookings_that_make_no_sense_are_refused(person: People) -> None:
    lars = person(TRADER)
    problem(lars.post("/trading/trades", terms(instrument="XX0000000000")), 422, "trading.invalid")
    tomorrow = (today() + timedelta(days=1)).isoformat()
    problem(lars.post("/trading/trades", terms(trade_date=tomorrow)), 422, "trading.invalid")
    yesterday = (today() - timedelta(days=1)).isoformat()
    problem(lars.post("/trading/trades", terms(value_date=yesterday)), 422, "trading.invalid")
    problem(lars.post("/trading/trades", terms(price="-1")), 422, "input.invalid")
    assert not Trade.objects.exists()


def test_trd2_only_settlement_confirms_after_matching(person: People) -> None:
    trade = book(person)
    url = f"/trading/trades/{trade['id']}/confirmation"
    for who in (TRADER, TRADER_2, TRADE_CONTROL, RISK_CONTROL):  # the trader and the controls
        problem(person(who).post(url, their_side(trade)), 403, "trading.forbidden")
    mara = person(SETTLEMENT)
    wrong_price = mara.post(url, their_side(trade, price="100.50"))
    assert wrong_price.status_code == 200, wrong_price.content
    assert wrong_price.json()["match"] == "mismatched"
    assert wrong_price.json()["mismatched_fields"] == "price"
    assert wrong_price.json()["confirmation"] == "unconfirmed"
    same_side = mara.post(url, their_side(trade, side=trade["side"]))  # not the mirror
    assert same_side.json()["mismatched_fields"] == "side"
    matched = mara.post(url, their_side(trade)).json()
    assert (matched["match"], matched["confirmation"], matched["confirmed_by"]) == (
        "matched",
        "confirmed",
        SETTLEMENT,
    )
    problem(mara.post(url, their_side(trade)), 409, "trading.already_confirmed")
    actions = AuditEvent.objects.filter(object_type="trade", object_id=str(trade["id"]))
    assert {"trading.trade.mismatched", "trading.trade.confirmed"} <= set(
        actions.values_list("action", flat=True)
    )


def test_trd2_confirmations_import_matches_every_row_or_none(person: People) -> None:
    first, second = book(person), book(person, TRADER_2, instrument=SAP, price="180.00")
    rows = [
        their_side(first) | {"trade": first["id"]},
        their_side(second) | {"trade": second["id"]},
    ]
    mara = person(SETTLEMENT)
    problem(
        person(TRADER).post(
            "/trading/confirmations", {"filename": "cp.csv", "content": confirmations_csv(*rows)}
        ),
        403,
        "trading.forbidden",
    )
    bad = [rows[0], rows[1] | {"value_date": "31.12.2026"}]
    body = problem(
        mara.post(
            "/trading/confirmations", {"filename": "cp.csv", "content": confirmations_csv(*bad)}
        ),
        422,
        "input.invalid",
    )
    assert "cp.csv:3: value_date" in body["detail"]
    assert body["errors"][0] | {"msg": ""} == {
        "file": "cp.csv",
        "line": 3,
        "field": "value_date",
        "msg": "",
    }
    unknown = [rows[0], rows[1] | {"trade": 999999}]
    body = problem(
        mara.post(
            "/trading/confirmations", {"filename": "cp.csv", "content": confirmations_csv(*unknown)}
        ),
        422,
        "input.invalid",
    )
    assert "cp.csv:3: trade" in body["detail"]
    assert not Trade.objects.filter(confirmation="confirmed").exists()  # nothing half-written
    done = mara.post(
        "/trading/confirmations", {"filename": "cp.csv", "content": confirmations_csv(*rows)}
    )
    assert done.json() == {"imported": 2, "trades": [first["id"], second["id"]]}
    assert set(Trade.objects.values_list("confirmation", flat=True)) == {"confirmed"}


def test_trd3_off_market_against_the_reference_and_closed_by_control_only(person: People) -> None:
    inside = book(person, price="100.40")  # Bund, 0.5 %: 100.40 vs 100.00 is conform
    outside = book(person, price="100.60")  # 0.6 % off
    text = prices_csv((BUND, today(), "100.00"))
    problem(import_prices(person, text, who=TRADER), 403, "trading.forbidden")  # not the desk's
    assert import_prices(person, text).json() == {"imported": 1, "trades": []}
    lars = person(TRADER)
    assert lars.get(f"/trading/trades/{inside['id']}").json()["market_check"] == "conform"
    off = lars.get(f"/trading/trades/{outside['id']}").json()
    assert (off["market_check"], off["reference_price"]) == ("off_market", "100.000000")
    later = book(person, price="99.00")  # booked after the reference: checked at once
    assert later["market_check"] == "off_market"

    url = f"/trading/trades/{outside['id']}/close-off-market"
    for who in (TRADER, SETTLEMENT):
        problem(person(who).post(url, {"reason": "fine"}), 403, "trading.forbidden")
    problem(person(TRADE_CONTROL).post(url, {"reason": "  "}), 422, "trading.invalid")
    closed = person(TRADE_CONTROL).post(url, {"reason": "block trade, price agreed"}).json()
    assert (closed["market_check"], closed["closed_by"]) == ("closed", TRADE_CONTROL)
    problem(person(RISK_CONTROL).post(url, {"reason": "again"}), 409, "trading.not_off_market")
    risk = person(RISK_CONTROL).post(
        f"/trading/trades/{later['id']}/close-off-market", {"reason": "stressed market"}
    )
    assert risk.json()["closed_by"] == RISK_CONTROL  # risk control closes too

    [first, second] = person(RISK_CONTROL).get("/trading/reports/off-market").json()
    assert (first["id"], first["closed_by"], first["close_reason"]) == (
        outside["id"],
        TRADE_CONTROL,
        "block trade, price agreed",
    )
    assert first["deviation_pct"] == "0.60" and second["closed_by"] == RISK_CONTROL


def test_trd3_a_bad_price_file_writes_nothing(person: People) -> None:
    text = prices_csv((BUND, today(), "100.00"), (SAP, today(), "abc"))
    body = problem(import_prices(person, text), 422, "input.invalid")
    assert "prices.csv:3: price" in body["detail"]
    assert not ReferencePrice.objects.exists()
    problem(
        import_prices(person, "instrument,price\nX,1\n"), 422, "input.invalid"
    )  # no date column
    assert import_prices(person, prices_csv((BUND, today(), "100"))).status_code == 200
    again = problem(import_prices(person, prices_csv((BUND, today(), "101"))), 422, "input.invalid")
    assert "already" in again["detail"]
    assert ReferencePrice.objects.get().price == Decimal("100")


def test_trd4_the_trader_cannot_change_a_booked_trade(person: People) -> None:
    trade = book(person)
    lars = person(TRADER)
    url = f"/api/v1/trading/trades/{trade['id']}"
    assert (
        lars.client.patch(url, {"price": "1"}, content_type="application/json").status_code == 405
    )
    assert lars.client.put(url, {"price": "1"}, content_type="application/json").status_code == 405
    assert lars.client.delete(url).status_code == 405
    assert Trade.objects.get().price == Decimal("100")


def correction(trade: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "trade": trade["id"],
        "quantity": "1000000",
        "price": "100.25",
        "value_date": trade["value_date"],
        "counterparty": trade["counterparty"],
        "reason": "price typo",
    } | extra


def test_trd4_a_correction_is_cancel_and_rebook_released_by_settlement(person: People) -> None:
    trade = book(person)
    lars = person(TRADER)
    problem(
        person(SETTLEMENT).start("trade-correction", correction(trade)),
        422,
        "process.not_startable",
    )
    started = lars.start("trade-correction", correction(trade))
    assert started.status_code == 201, started.content
    case = started.json()["id"]
    problem(lars.act(case, "release"), 403, "step.not_eligible")
    problem(person(TRADER_2).act(case, "release"), 404, "case.not_found")
    problem(person(TRADE_CONTROL).act(case, "release"), 404, "case.not_found")
    assert Trade.objects.get(pk=trade["id"]).status == "booked"
    released = person(SETTLEMENT).act(case, "release")
    assert released.json()["status"] == "released", released.content
    old = lars.get(f"/trading/trades/{trade['id']}").json()
    [new] = [t for t in api_pages(lars.client, "/api/v1/trading/trades")[0] if t["replaces"]]
    assert old["status"] == "cancelled"
    assert (new["replaces"], new["price"], new["booked_by"]) == (trade["id"], "100.250000", TRADER)
    again = lars.start("trade-correction", correction(trade, price="100.30"))
    problem(again, 409, "trading.cancelled")
    [row] = person(SETTLEMENT).get("/trading/reports/corrections").json()
    assert row == {"trader": TRADER, "trades": 2, "cancelled": 1, "rebooked": 1}


def test_trd4_late_bookings_are_flagged_and_reported(person: People) -> None:
    yesterday = (today() - timedelta(days=1)).isoformat()
    late = book(person, trade_date=yesterday)
    assert late["late"] is True
    [row] = person(SETTLEMENT).get("/trading/reports/late").json()
    assert (row["id"], row["booked_by"]) == (late["id"], TRADER)


def test_reports_are_refused_to_the_desks_and_paged_and_csv(person: People) -> None:
    for name in ("unconfirmed", "off-market", "corrections", "late"):
        problem(person(TRADER).get(f"/trading/reports/{name}"), 403, "trading.forbidden")
    old = (today() - timedelta(days=5)).isoformat()
    ids = [book(person, trade_date=old)["id"]] + [book(person)["id"] for _ in range(4)]
    pages = api_pages(person(SETTLEMENT).client, "/api/v1/trading/reports/unconfirmed?limit=2")
    assert [len(p) for p in pages] == [2, 2, 1]
    rows = [r for p in pages for r in p]
    assert rows[0]["id"] == ids[0] and rows[0]["age_days"] == 5  # oldest first
    csv = person("martin.jung").get("/trading/reports/unconfirmed?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert len(csv.getvalue().decode().strip().splitlines()) == 6


def _move(person_name: str, days_ago: int) -> None:
    """The mover left the equity desk for settlement ``days_ago`` days ago."""
    user = get_user_model().objects.get(username=person_name)
    moved = today() - timedelta(days=days_ago)
    Membership.objects.filter(user=user, unit__key="equity-desk").update(valid_to=moved)
    Membership.objects.filter(user=user, unit__key="settlement").update(valid_from=moved)
    RoleAssignment.objects.filter(user=user, role__key="trader").update(valid_to=moved)
    RoleAssignment.objects.filter(user=user, role__key="settlement-clerk").update(valid_from=moved)


def test_cool1_a_former_trader_does_not_confirm_the_former_desks_trades(person: People) -> None:
    _move(MOVER, 30)
    equity = book(person, TRADER_2, instrument=SAP, price="180")  # his former desk
    rates = book(person, TRADER)
    tobias = person(MOVER)
    body = problem(
        tobias.post(f"/trading/trades/{equity['id']}/confirmation", their_side(equity)),
        403,
        "sod.cooling_off",
    )
    assert "COOL-1" in body["detail"] and "former desk" in body["detail"]
    assert denials(MOVER) == 1
    via_file = tobias.post(
        "/trading/confirmations",
        {
            "filename": "cp.csv",
            "content": confirmations_csv(
                their_side(rates) | {"trade": rates["id"]},
                their_side(equity) | {"trade": equity["id"]},
            ),
        },
    )
    assert "cp.csv:3" in problem(via_file, 403, "sod.cooling_off")["detail"]
    assert not Trade.objects.filter(confirmation="confirmed").exists()
    confirmed = tobias.post(f"/trading/trades/{rates['id']}/confirmation", their_side(rates))
    assert confirmed.json()["confirmation"] == "confirmed"  # another desk's trade: fine
    _move(MOVER, 181)  # the period is over
    done = tobias.post(f"/trading/trades/{equity['id']}/confirmation", their_side(equity))
    assert done.json()["confirmation"] == "confirmed", done.content


def test_trd1_nobody_holds_two_of_trader_settlement_trade_and_risk_control(
    person: People,
) -> None:
    """The demo's SSD constraint ssd-trd-1: a settlement clerk may not become trade control."""
    for who, role in (
        (SETTLEMENT, "trade-controller"),
        (TRADE_CONTROL, "risk-controller"),
        (TRADER, "trade-controller"),
    ):
        refused = problem(
            person("maria.keller").start("role-grant", grant(who, role)), 403, "access.ssd"
        )
        assert "Trader, settlement, trade control, risk control" in refused["detail"], refused


def test_trd4_and_cool1_who_may_ask_for_and_release_a_correction(person: People) -> None:
    rates = book(person)
    problem(person(TRADER_2).start("trade-correction", correction(rates)), 403, "trading.forbidden")
    _move(MOVER, 30)
    equity = book(person, TRADER_2, instrument=SAP, price="180")
    case = person(TRADER_2).start("trade-correction", correction(equity, price="181")).json()
    problem(person(MOVER).act(case["id"], "release"), 403, "sod.cooling_off")
    assert Trade.objects.get(pk=equity["id"]).status == "booked"
    assert person(SETTLEMENT).act(case["id"], "release").json()["status"] == "released"


def test_the_trading_api_is_in_the_openapi_document_with_csv_reports(person: People) -> None:
    paths = person(TRADER).get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/trading/trades"])
    assert "post" in paths["/api/v1/trading/trades/{trade_id}/confirmation"]
    for name in ("unconfirmed", "off-market", "corrections", "late"):
        ok = paths[f"/api/v1/trading/reports/{name}"]["get"]["responses"]["200"]["content"]
        assert "text/csv" in ok, name
