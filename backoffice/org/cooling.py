"""COOL-1's facts from the organisation: a person's moves out of market or trading into a
control line, for any process that controls business (credit votes, trade confirmations).

The rule is ``core.cooling``; each app says only what "handled" and "of the former unit"
mean for its object (a borrower group, a trade).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from backoffice.base.context import cached
from backoffice.core.cooling import CoolingOffSpec, Move
from backoffice.core.org import Line
from backoffice.org.models import Membership, Unit

__all__ = ["RISK_TAKING", "CONTROL_LINES", "moves_out", "unit_and_below"]

#: COOL-1: moves out of these lines start a cooling-off period …
RISK_TAKING = {Line.MARKET.value, Line.TRADING.value}
#: … when they lead into one of these.
CONTROL_LINES = {
    Line.BACK_OFFICE.value,
    Line.SETTLEMENT.value,
    Line.RISK_CONTROL.value,
    Line.COMPLIANCE.value,
    Line.INTERNAL_AUDIT.value,
}


def unit_and_below(unit_id: int) -> set[int]:
    """The unit and every unit under it (a desk belongs to the trading unit it left)."""
    found: set[int] = {unit_id}
    frontier = {unit_id}
    while frontier:
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier -= found
        found |= frontier
    return found


def moves_out(
    person: str,
    spec: CoolingOffSpec,
    day: date,
    handled: Callable[[date], bool],
    in_former: Callable[[set[int]], bool],
) -> tuple[Move, ...]:
    """COOL-1: the person's moves out of market or trading within the longest period.

    ``handled(left_on)``: they handled the object before leaving on that day;
    ``in_former(unit_ids)``: the object belongs to the unit they left (or one below it).
    """
    window = day - timedelta(days=spec.longest)
    mine = cached(
        f"cooling:memberships:{person}",
        lambda: list(Membership.objects.filter(user__username=person).select_related("unit")),
    )
    now = [m for m in mine if m.period.contains(day) and m.unit.line in CONTROL_LINES]
    moves = []
    for left in mine:
        if left.unit.line not in RISK_TAKING or left.valid_to is None:
            continue
        if not (window < left.valid_to <= day):
            continue
        for new in now:
            if new.valid_from < left.valid_from:
                continue
            moves.append(
                Move(
                    from_unit=left.unit.key,
                    on=left.valid_to,
                    to_line=Line(new.unit.line),
                    handled=handled(left.valid_to),
                    same_unit=in_former(unit_and_below(left.unit_id)),
                )
            )
    return tuple(moves)
