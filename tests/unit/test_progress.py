"""#19: progress is counted where the work is done, and a silent job ends as failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.progress import counted, job_is_stale


@given(weights=st.lists(st.integers(0, 7), max_size=60), every=st.integers(1, 20))
def test_progress_rises_to_the_total_at_most_every_few_units_and_items_pass_unchanged(
    weights: list[int], every: int
) -> None:
    told: list[int] = []
    out = list(counted(iter(weights), told.append, every=every, weight=lambda w: w))
    assert out == weights
    assert told == sorted(told) and told[-1] == sum(weights)
    before = [0, *told]
    steps = [told[i] - before[i] for i in range(len(told) - 1)]  # all but the final report
    assert all(step >= every for step in steps)  # never more often than every ``every`` units


def test_without_a_callback_nothing_is_counted() -> None:
    assert list(counted(range(3), None)) == [0, 1, 2]


def test_a_job_that_stopped_reporting_is_stale_one_that_ended_never() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    limit = timedelta(minutes=2)
    silent = now - timedelta(minutes=3)
    assert job_is_stale("running", silent, now, limit)
    assert job_is_stale("queued", silent, now, limit)
    assert not job_is_stale("running", now - timedelta(minutes=1), now, limit)
    assert not job_is_stale("done", silent, now, limit)
    assert not job_is_stale("failed", silent, now, limit)
