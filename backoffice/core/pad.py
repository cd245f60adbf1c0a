"""Personal account dealing (#17): the pre-clearance of employees' own orders.

Pure rules over plain data; the ``walls`` app persists and asks. Rules (docs/securities.md):

- PAD-1: an order in an issuer on the restricted list is blocked (CW-3).
- PAD-2: an order in an issuer on the watch list is executed, and compliance is alerted;
  the employee never learns of the watch list (CW-4).
- PAD-3: compliance clears one specific blocked order, with a reason, as a case a second
  compliance officer releases; the restriction stays.
- PAD-4: a position is held for the minimum holding period of the policy: no opposite order
  in the same issuer within that many days of the last one.
- PAD-5: an analyst trades neither against their own current recommendation on the issuer
  nor ahead of its publication (a draft of theirs not yet released: front-running).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from backoffice.core.errors import N_, Denied

__all__ = [
    "PAD_DENIAL_CODES",
    "Side",
    "Order",
    "PastOrder",
    "Recommendation",
    "Decision",
    "preclear",
    "quarter_of",
    "quarter_bounds",
]

PAD_DENIAL_CODES: dict[str, str] = {
    "pad.restricted": N_("the issuer is on the restricted list"),
    "pad.holding_period": N_("the minimum holding period is not over"),
    "pad.against_recommendation": N_("the order goes against your own current recommendation"),
    "pad.front_running": N_("you have unpublished research on the issuer"),
    "pad.not_blocked": N_("only a blocked order can be cleared"),
    "pad.not_found": N_("there is no such order"),
    "pad.invalid": N_("the order is not complete or not possible"),
}


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self == Side.BUY else Side.BUY


@dataclass(frozen=True)
class Order:
    issuer: str
    side: Side
    at: datetime


@dataclass(frozen=True)
class PastOrder:
    """An earlier order of the same person that went through (executed or cleared)."""

    issuer: str
    side: Side
    at: datetime


@dataclass(frozen=True)
class Recommendation:
    """The person's own research on an issuer: ``published`` or still a draft."""

    issuer: str
    rating: str  # buy, hold, sell
    published: bool
    at: datetime


@dataclass(frozen=True)
class Decision:
    """``executed`` (``alert``: compliance hears of a watch-list hit) or ``blocked`` (why)."""

    executed: bool
    refusal: Denied | None = None
    alert: bool = False


def preclear(
    order: Order,
    *,
    restricted: Collection[str],
    watched: Collection[str],
    history: Iterable[PastOrder],
    research: Iterable[Recommendation],
    holding_days: int,
    issuer_name: str = "",
) -> Decision:
    """PAD-1, PAD-5, PAD-4 in that order; then PAD-2 (executed, with the alert)."""
    name = issuer_name or order.issuer
    if order.issuer in restricted:
        return _blocked(
            "pad.restricted",
            f"{name} is on the restricted list: personal orders in it are blocked (PAD-1, "
            "CW-3). Compliance may clear this one order.",
        )
    mine = sorted((r for r in research if r.issuer == order.issuer), key=lambda r: r.at)
    if any(not r.published for r in mine):
        return _blocked(
            "pad.front_running",
            f"You have research on {name} that is not published yet: no personal order in it "
            "before it is (PAD-5, front-running).",
        )
    current = [r for r in mine if r.published]
    if current:
        rating = current[-1].rating
        against = (rating == "buy" and order.side == Side.SELL) or (
            rating == "sell" and order.side == Side.BUY
        )
        if against:
            return _blocked(
                "pad.against_recommendation",
                f"Your current recommendation on {name} is {rating}: you may not "
                f"{order.side.value} against it (PAD-5).",
            )
    since = order.at - timedelta(days=holding_days)
    recent = [
        p
        for p in history
        if p.issuer == order.issuer and p.side == order.side.opposite and since < p.at <= order.at
    ]
    if recent:
        free = max(p.at for p in recent) + timedelta(days=holding_days)
        return _blocked(
            "pad.holding_period",
            f"You {order.side.opposite.value} {name} on {max(p.at for p in recent):%Y-%m-%d}: "
            f"the minimum holding period of {holding_days} days ends on {free:%Y-%m-%d} (PAD-4).",
        )
    return Decision(executed=True, alert=order.issuer in watched)


def _blocked(code: str, message: str) -> Decision:
    return Decision(executed=False, refusal=Denied(code, message))


def quarter_of(at: date) -> tuple[int, int]:
    return at.year, (at.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar quarter, in UTC."""
    if not 1 <= quarter <= 4:
        raise ValueError("a quarter is 1 to 4")
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if quarter == 4
        else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC)
    )
    return start, end
