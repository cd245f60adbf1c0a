"""COOL-1, the one cooling-off rule of every process (credit votes, trade confirmations).

Someone who leaves a risk-taking line (market, trading) for a control line may not, for a
period the policy sets, control business they handled before the move (in strict mode:
any business of the unit they left). The apps gather the moves (``org.cooling``); this
module decides, for credit and trading alike, so the rule exists once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from backoffice.core.errors import Denied
from backoffice.core.org import Line
from backoffice.core.spec import Spec

__all__ = ["CoolingOffSpec", "Move", "cooling_off", "cooling_off_ends"]


class CoolingOffSpec(Spec):
    """COOL-1: how long a move out of market or trading bars controls of former business."""

    days: Annotated[int, Field(ge=0, le=3650)] = 180
    internal_audit_days: Annotated[int, Field(ge=0, le=3650)] = 365
    #: strict: every object of the former unit, not only business the person handled
    strict: bool = False

    @property
    def longest(self) -> int:
        """The longest period any move can bar for (how far back moves are read)."""
        return max(self.days, self.internal_audit_days)


@dataclass(frozen=True)
class Move:
    """The actor left a market or trading unit for a control line on ``on`` (COOL-1).

    ``handled``: they made, voted on, booked or looked after the object in question before
    the move; ``same_unit``: the object belongs to the unit they left.
    """

    from_unit: str
    on: date
    to_line: Line
    handled: bool = False
    same_unit: bool = False


def cooling_off_ends(spec: CoolingOffSpec, move: Move) -> date:
    """The first day on which the move no longer bars anything."""
    days = spec.internal_audit_days if move.to_line == Line.INTERNAL_AUDIT else spec.days
    return move.on + timedelta(days=days)


def cooling_off(
    spec: CoolingOffSpec,
    moves: Iterable[Move],
    today: date,
    *,
    handled: str = "business you handled",
    former: str = "business of your former unit",
) -> Denied | None:
    """COOL-1: within the period after a move, no control of business handled before it
    (strict: of any business of the former unit). ``handled``/``former`` name the
    business in the refusal ("trades you booked", "borrowers of your former unit")."""
    for move in moves:
        ends = cooling_off_ends(spec, move)
        if today < ends and (move.handled or (spec.strict and move.same_unit)):
            what = handled if move.handled else former
            return Denied(
                "sod.cooling_off",
                f"You moved out of {move.from_unit} on {move.on.isoformat()}; until "
                f"{ends.isoformat()} you may not control {what} there (COOL-1, "
                "MaRisk AT 4.3.1).",
            )
    return None
