"""``backoffice trading import-prices|import-confirmations``: the same services as the API;
a bad row is exit 2 naming file, line and field, and nothing is written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice.trading.models import ReferencePrice, Trade
from tests.trading.conftest import (
    BUND,
    SETTLEMENT,
    TRADE_CONTROL,
    TRADER,
    People,
    book,
    confirmations_csv,
    prices_csv,
    their_side,
    today,
)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("trading", *args, stdout=out)
    return out.getvalue()


def test_prices_and_confirmations_from_files(person: People, tmp_path: Path) -> None:
    trade = book(person, price="101.00")  # 1 % off the reference: off-market
    prices = tmp_path / "prices.csv"
    prices.write_text(prices_csv((BUND, today(), "100.00")))
    assert run("import-prices", str(prices), "--as", TRADE_CONTROL) == (
        "1 reference price(s) imported\n"
    )
    assert Trade.objects.get().market_check == "off_market"
    confirmations = tmp_path / "cp.csv"
    confirmations.write_text(confirmations_csv(their_side(trade) | {"trade": trade["id"]}))
    said = run("import-confirmations", str(confirmations), "--as", SETTLEMENT)
    assert said == "1 confirmation(s) matched: 1 confirmed, 0 mismatched\n"


def test_a_bad_row_is_exit_2_and_a_refusal_exit_1(person: People, tmp_path: Path) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text(prices_csv((BUND, today(), "100.00")) + f"{BUND},2026-13-01,99\n")
    with pytest.raises(CommandError) as caught:
        run("import-prices", str(bad), "--as", TRADE_CONTROL)
    assert caught.value.returncode == 2
    assert f"{bad}:3: date: not a date" in str(caught.value)
    assert not ReferencePrice.objects.exists()
    good = tmp_path / "good.csv"
    good.write_text(prices_csv((BUND, today(), "100.00")))
    with pytest.raises(CommandError) as caught:
        run("import-prices", str(good), "--as", TRADER)  # a trader sets no reference prices
    assert caught.value.returncode == 1 and "trading.forbidden" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("import-prices", str(good), "--as", "nobody")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        run("import-confirmations", str(tmp_path / "missing.csv"), "--as", SETTLEMENT)
    assert caught.value.returncode == 2
