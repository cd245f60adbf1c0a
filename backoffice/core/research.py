"""Research publication (#17): who may write about an issuer, and what the issuer may see.

Pure rules over plain data; the ``walls`` app persists and asks. Rules (docs/securities.md):

- RES-1: a note is drafted by one analyst and released by another analyst or the head of
  research (four eyes, the process's release step).
- RES-2: the issuer sees a draft for a fact check only as the version without rating, price
  target and valuation; the system produces that version and sends nothing else.
- RES-3: an analyst brought over the wall for an issuer (CW-2) is private side for it: they
  draft, release or distribute no research on it until their crossing ended plus the quiet
  period of the policy.
- RES-4: an underwriting the house leads blocks research on its issuer from its announcement
  until the quiet period after it closed. While the mandate is confidential the watch list
  restricts nothing (CW-4): a refusal then would give the deal away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backoffice.core.errors import N_, Denied

__all__ = [
    "RESEARCH_DENIAL_CODES",
    "CrossingSpan",
    "Underwriting",
    "QuietPeriods",
    "check_research_position",
    "check_underwriting_quiet",
    "FACT_CHECK_WITHHELD",
    "fact_check_version",
    "check_fact_check",
]

RESEARCH_DENIAL_CODES: dict[str, str] = {
    "research.private_side": N_(
        "you were brought over the wall for this issuer: no research on it for now"
    ),
    "research.quiet_period": N_("a quiet period around an underwriting blocks research on it"),
    "research.fact_check_leak": N_("the fact-check version would still give away the view"),
    "research.not_found": N_("there is no such research draft"),
}


@dataclass(frozen=True)
class CrossingSpan:
    """A wall crossing of the person for ``issuer``: from ``start`` to ``end`` (the earlier
    of its planned end and the day compliance ended it)."""

    issuer: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Underwriting:
    """An underwriting mandate the house leads: public from ``announced``, over at ``closed``."""

    issuer: str
    announced: datetime | None
    closed: datetime | None = None


@dataclass(frozen=True)
class QuietPeriods:
    """From the policy: days after a crossing ends, days after an underwriting closes."""

    after_crossing_days: int = 10
    after_underwriting_days: int = 10


def check_research_position(
    issuer: str,
    crossings: Iterable[CrossingSpan],
    at: datetime,
    quiet: QuietPeriods,
    *,
    own: bool = True,
    name: str = "",
) -> Denied | None:
    """RES-3: ``at`` falls in a crossing for ``issuer`` or its quiet period afterwards.

    ``own`` says the person asks for themselves: then the refusal names the period; anyone
    else (the releaser of a crossed maker's note) hears only that the author may not.
    """
    pause = timedelta(days=quiet.after_crossing_days)
    spans = [c for c in crossings if c.issuer == issuer and c.start <= at < c.end + pause]
    if not spans:
        return None
    if own:
        until = max(c.end for c in spans) + pause
        return Denied(
            "research.private_side",
            "You were brought over the wall for this issuer: you are private side for it and "
            f"write, release or publish no research on it until {until:%Y-%m-%d %H:%M} UTC "
            "(the crossing plus the quiet period, RES-3).",
        )
    return Denied(
        "research.private_side",
        f"{name or 'The author'} may not publish research on this issuer now (RES-3); "
        "compliance can see why.",
    )


def check_underwriting_quiet(
    issuer: str, underwritings: Iterable[Underwriting], at: datetime, quiet: QuietPeriods
) -> Denied | None:
    """RES-4: a public underwriting the house leads, or its quiet period after closing."""
    pause = timedelta(days=quiet.after_underwriting_days)
    for deal in underwritings:
        if deal.issuer != issuer or deal.announced is None or at < deal.announced:
            continue
        if deal.closed is None or at < deal.closed + pause:
            return Denied(
                "research.quiet_period",
                "The house leads an underwriting for this issuer: no research on it during "
                f"the offer and {quiet.after_underwriting_days} days after it (RES-4).",
            )
    return None


#: RES-2: what the issuer never sees of a draft
FACT_CHECK_WITHHELD = ("rating", "price_target", "valuation")


def fact_check_version(payload: Mapping[str, Any]) -> dict[str, str]:
    """RES-2: the draft as the issuer may see it: headline and text, nothing of the view."""
    return {
        "issuer": str(payload.get("issuer") or ""),
        "headline": str(payload.get("headline") or ""),
        "summary": str(payload.get("summary") or ""),
    }


def check_fact_check(payload: Mapping[str, Any], version: Mapping[str, str]) -> Denied | None:
    """RES-2: refuse to send a version that still carries the rating, the price target or
    the valuation (written into the text, say): the analyst must take it out first."""
    keys = set(version) - {"issuer", "headline", "summary"}
    if keys:
        return Denied("research.fact_check_leak", f"Only headline and text go out, not {keys}.")
    text = f"{version.get('headline', '')}\n{version.get('summary', '')}".casefold()
    for name in FACT_CHECK_WITHHELD:
        value = str(payload.get(name) or "").strip()
        if value and value.casefold() in text and (name != "rating" or _rated(value, text)):
            return Denied(
                "research.fact_check_leak",
                f"The text still gives the {name.replace('_', ' ')} away: take it out of "
                "headline and summary before the issuer sees it (RES-2).",
            )
    return None


def _rated(rating: str, text: str) -> bool:
    """A rating word counts only as a call ("rating: buy", "buy rating"), not as a verb."""
    r = rating.casefold()
    calls = (f"rating: {r}", f"rating {r}", f"{r} rating", f"rated {r}", f"rate it {r}")
    return any(call in text for call in calls)
