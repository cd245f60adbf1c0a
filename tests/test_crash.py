"""The crash test in a bounded form: SIGKILL the server twice under four-eyes traffic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.mark.postgres
def test_nothing_committed_is_lost_and_nothing_is_half_done() -> None:
    from crash_test import run  # benchmarks/crash_test.py

    report = run(kills=2, clients=3, interval=2.0, workers=2)
    assert report.kills == 2 and report.retries > 0  # the outages were real
    assert report.started and report.released
    assert report.ok, (report.errors, report.problems)
