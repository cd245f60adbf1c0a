"""#15 part 3: ``sod actual --live`` reads Backoffice's own audit trail and rule set."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from backoffice.audit.services import record
from backoffice.sod_cli import sod_actual

pytestmark = pytest.mark.django_db

#: Backoffice's audit actions as functions of the demo policy's rule set.
MAPPING = "action,function_id\npayment.entered,payment-entry\npayment.released,payment-release\n"


def run(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(MAPPING)
    out, err = io.StringIO(), io.StringIO()
    argv = ["--live", "--mapping", str(mapping), "--out", str(tmp_path / "a.csv"), *extra]
    return sod_actual(argv, out, err), out.getvalue(), err.getvalue()


def test_live_finds_a_payment_entered_and_released_by_one_person(
    demo_bank: Any, tmp_path: Path
) -> None:
    with transaction.atomic():
        record("payment.entered", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.entered", actor="cli:root", object_type="payment", object_id=18)
        record("payment.released", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.released", actor="paul.meyer", object_type="payment", object_id=18)
    code, _, err = run(tmp_path)
    assert (code, err) == (0, "")
    rows = [r.split(",") for r in (tmp_path / "a.csv").read_text().splitlines()[1:]]
    assert [row[:5] for row in rows] == [
        ["eva.hahn", "payment-entry-release", "high", "object", "payment:17"],
        ["eva.hahn", "payment-entry-release", "high", "window", ""],
    ]  # the system's entry and paul's release are two people: no finding


def test_live_refuses_a_mapping_with_an_unknown_function(demo_bank: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "bad.csv"
    mapping.write_text("action,function_id\npayment.entered,no-such-function\n")
    err = io.StringIO()
    argv = ["--live", "--mapping", str(mapping), "--out", str(tmp_path / "a.csv")]
    assert sod_actual(argv, io.StringIO(), err) == 2
    assert f"{mapping}:2: unknown function_id 'no-such-function'" in err.getvalue()
    assert not (tmp_path / "a.csv").exists()


def test_the_mapping_lives_in_the_policy(db: Any, demo_policy_bytes: bytes) -> None:
    """A function's ``actions`` in the policy (loaded as the first one, so without a
    case): ``sod actual --live`` needs no --mapping."""
    from backoffice.org.services import do_load_policy

    text = demo_policy_bytes.decode()
    for old, action in [
        ("name: Enter payments, permissions: [payment.enter]", "payment.entered"),
        ("name: Release payments, permissions: [payment.release]", "payment.released"),
    ]:
        assert old in text
        text = text.replace(old, f"{old}, actions: [{action}]")
    do_load_policy(text.encode(), "demo-bank.yaml", actor="test:setup")
    with transaction.atomic():
        record("payment.entered", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.released", actor="eva.hahn", object_type="payment", object_id=17)
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "a.csv"
        assert sod_actual(["--live", "--out", str(out)], io.StringIO(), io.StringIO()) == 0
        kinds = [row.split(",")[3] for row in out.read_text().splitlines()[1:]]
    assert kinds == ["object", "window"]
