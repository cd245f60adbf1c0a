"""The demo bank's trading floor: every trading report has something to show."""

from __future__ import annotations

from backoffice.trading.demo import seed_demo_trading
from backoffice.trading.models import Trade
from tests.trading.conftest import People


def test_the_demo_fills_every_trading_report_once(person: People) -> None:
    assert seed_demo_trading() == 9  # eight booked, one of them rebooked
    assert seed_demo_trading() == 0
    auditor = person("martin.jung")
    reports = {
        name: auditor.get(f"/trading/reports/{name}").json()
        for name in ("unconfirmed", "off-market", "corrections", "late")
    }
    assert all(reports.values()), reports
    off = {r["instrument"]: r["closed_by"] for r in reports["off-market"]}
    assert off == {"XS2391790610": None, "DE0007100000": "ben.krause"}
    assert reports["corrections"] == [
        {"trader": "lars.vogt", "trades": 6, "cancelled": 1, "rebooked": 1}
    ]
    assert {r["mismatched_fields"] for r in reports["unconfirmed"]} >= {"price"}
    assert Trade.objects.filter(confirmation="confirmed").count() == 3
