"""#19 progress: long work reports how far it got, counted where the work is done.

``counted`` passes items through unchanged and tells a callback how many units went by,
every ``every`` units and once at the end; the caller decides what a unit is (an event
checked, an event written). ``job_is_stale`` is the rule that ends a job whose worker
stopped reporting: a bank must not show "running" for a job nobody runs any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TypeVar

__all__ = ["Progress", "counted", "job_is_stale"]

T = TypeVar("T")

#: Told the number of units done so far (never less than the time before).
Progress = Callable[[int], None]


def counted(
    items: Iterable[T],
    progress: Progress | None,
    *,
    every: int = 1000,
    weight: Callable[[T], int] | None = None,
) -> Iterator[T]:
    """``items`` unchanged; ``progress(done)`` whenever ``every`` more units went by, and
    once when the items are exhausted. ``weight(item)``: how many units an item is (1)."""
    if progress is None:
        yield from items
        return
    done = reported = 0
    for item in items:
        yield item
        done += 1 if weight is None else weight(item)
        if done - reported >= every:
            reported = done
            progress(done)
    if done != reported or done == 0:
        progress(done)


def job_is_stale(state: str, heartbeat: datetime, now: datetime, stale_after: timedelta) -> bool:
    """A queued or running job that has not reported for ``stale_after``: its worker died
    (or none is running), so it is failed rather than shown as running for ever."""
    return state in {"queued", "running"} and now - heartbeat > stale_after
