"""#16: the retail policy is clean and proven safe; broken variants are named at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.core.policy_verify import verify_policy
from tests.retail.conftest import RETAIL_POLICY
from tests.support import run_cli

TEXT = RETAIL_POLICY.read_text()


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only occurrence of ``needle``."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(text.encode(), "broken.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_retail_policy_is_clean_and_every_process_proven_safe() -> None:
    document = parse_policy(RETAIL_POLICY.read_bytes(), str(RETAIL_POLICY))
    verdicts = verify_policy(document.policy)
    assert verdicts and all(v.safe for v in verdicts)
    assert {v.process for v in verdicts} >= {
        "vendor-master",
        "purchase-requisition",
        "purchase-order",
        "goods-receipt",
        "invoice-match",
        "payment-run",
        "customer-credit-limit",
        "credit-note",
        "inventory-count",
        "stock-write-off",
        "till-cash-up",
        "price-override",
        "journal-entry",
        "employee-master",
        "salary-change",
        "payroll-run",
    }


def test_policy_check_and_verify_on_the_command_line() -> None:
    checked = run_cli("policy", "check", str(RETAIL_POLICY))
    assert checked.returncode == 0, checked.stderr
    assert f"{RETAIL_POLICY}: OK" in checked.stdout
    verified = run_cli("policy", "verify", str(RETAIL_POLICY))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines()[-1].endswith("process(es) proven safe")


def test_a_step_nobody_may_take_is_named_at_its_line() -> None:
    old = "who: {permissions: [journal.post]}"
    text = TEXT.replace(old, "who: {permissions: [journal.book]}")
    line = line_of(text, "who: {permissions: [journal.book]}")
    (found,) = problems(text)
    assert found.startswith(f"broken.yaml:{line}:")
    assert "nobody in the policy may act on step 'post'" in found


def test_a_gap_between_amount_tiers_is_named_at_its_line() -> None:
    old = "{at_least: 5000, below: 50000, approvals: 2"
    text = TEXT.replace(old, "{at_least: 6000, below: 50000, approvals: 2")
    line = line_of(text, "{at_least: 6000")
    (found,) = problems(text)
    assert found.startswith(f"broken.yaml:{line}:")
    assert "tier gap: amounts from 5,000 to below 6,000 fall under no tier" in found


def test_overlapping_tiers_and_a_last_tier_with_a_ceiling_are_named() -> None:
    text = TEXT.replace("{at_least: 10000, below: 100000,", "{at_least: 9000, below: 100000,")
    (found,) = problems(text)
    assert found.startswith(f"broken.yaml:{line_of(text, '{at_least: 9000')}:")
    assert "overlap" in found
    text = TEXT.replace(
        "{at_least: 1000, approvals: 2,", "{at_least: 1000, below: 5000, approvals: 2,"
    )
    assert any("the last tier must apply always" in p for p in problems(text))


def test_a_tolerance_below_zero_is_named_at_its_line() -> None:
    text = TEXT.replace("percent: 2, absolute: 0.50", "percent: -2, absolute: 0.50")
    line = line_of(text, "percent: -2")
    (found,) = problems(text)
    assert found.startswith(f"broken.yaml:{line}:")
    assert "tolerances.0.percent" in found and "greater than or equal to 0" in found


def test_the_cli_reports_every_problem_of_a_broken_variant(tmp_path: Path) -> None:
    text = (
        TEXT.replace("who: {permissions: [journal.post]}", "who: {permissions: [journal.book]}")
        .replace("{at_least: 5000, below: 50000,", "{at_least: 6000, below: 50000,")
        .replace("{name: receipt_ok, field: received_quantity", "{name: receipt_ok, field: nothing")
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    result = run_cli("policy", "check", str(path))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert f"{path}:{line_of(text, 'journal.book')}:" in out
    assert f"{path}:{line_of(text, 'at_least: 6000')}:" in out
    assert "'nothing' must name an amount or integer field" in out


@given(st.sampled_from(["purchase-order", "payment-run", "stock-write-off", "credit-note"]))
def test_every_banded_step_of_the_retail_policy_covers_every_amount(process: str) -> None:
    """No amount from 0 up falls between two bands (the check above, on the shipped file)."""
    document = parse_policy(RETAIL_POLICY.read_bytes(), str(RETAIL_POLICY))
    spec = next(p for p in document.policy.processes if p.id == process)
    for step in spec.steps:
        for amount in (0.0, 499.99, 500.0, 4999.99, 5000.0, 9999.99, 10000.0, 1e9):
            assert sum(t.in_band(amount) for t in step.tiers if t.banded) == 1


def test_the_demo_command_knows_the_retailer() -> None:
    result = run_cli("demo", "--help")
    assert "--policy {bank,retail}" in " ".join(result.stdout.split())
