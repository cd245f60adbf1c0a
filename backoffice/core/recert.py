"""Recertification (RECERT-1, RECERT-2): how often each assignment is reviewed, by whom,
when it is overdue or suspended, and which reviewers only rubber-stamp.

Pure: the policy's ``recertification`` section and the facts come in, decisions go out.
The ``access`` app reads the database and writes the campaigns (docs/access.md).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field

from backoffice.core.spec import Key, Spec

__all__ = [
    "Criticality",
    "CRITICALITIES",
    "RecertPeriods",
    "RubberStampSpec",
    "RecertSpec",
    "recert_problems",
    "criticality_of",
    "supports_critical_function",
    "review_months",
    "add_months",
    "due_date",
    "recert_due",
    "suspends_on",
    "is_overdue",
    "manager_chain",
    "delegation_related",
    "reviewer_for",
    "Burst",
    "rubber_stamps",
]

Criticality = Literal["privileged", "material", "other"]
CRITICALITIES: tuple[Criticality, ...] = ("privileged", "material", "other")

Months = Annotated[int, Field(ge=1, le=120)]


class RecertPeriods(Spec):
    """Review periods in months. ``critical_function`` caps every class for roles on systems
    that support critical or important functions (DORA Art. 9(4)(c), RECERT-2)."""

    privileged: Months = 6
    material: Months = 12
    other: Months = 36
    critical_function: Months = 6


class RubberStampSpec(Spec):
    """A reviewer who decides more than ``items`` items within less than ``seconds``."""

    items: Annotated[int, Field(ge=1)] = 10
    seconds: Annotated[int, Field(ge=1)] = 60


class RecertSpec(Spec):
    """The policy's ``recertification`` section. A role not listed as privileged or
    material is ``other``."""

    privileged: list[Key] = []
    material: list[Key] = []
    #: roles on systems that support critical or important functions (DORA)
    critical_functions: list[Key] = []
    periods: RecertPeriods = RecertPeriods()
    #: who reviews: the role's owner (``owners``), or the holder's line manager
    reviewer: Literal["role_owner", "line_manager"] = "line_manager"
    owners: dict[Key, Key] = {}
    #: the least time a reviewer gets: an item is due no sooner than this after the start
    review_days: Annotated[int, Field(ge=1, le=365)] = 30
    #: RECERT-1: an open privileged item this many days past its due date suspends the
    #: assignment (None: overdue items are only reported)
    suspend_privileged_after_days: Annotated[int, Field(ge=0, le=365)] | None = None
    #: RECERT-1: a transfer or a change of role in the organisation (a membership that
    #: starts after an earlier one) makes every assignment of the person due this many days
    #: later, if that is sooner than its period says (None: only the periods count)
    transfer_review_days: Annotated[int, Field(ge=1, le=365)] | None = 30
    rubber_stamp: RubberStampSpec = RubberStampSpec()


def recert_problems(
    spec: RecertSpec, roles: Iterable[str], people: Iterable[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Unknown roles and owners, a role in two classes, and a role-owner review without
    owners."""
    known_roles, known_people = set(roles), set(people)
    for section in ("privileged", "material", "critical_functions"):
        for index, role in enumerate(getattr(spec, section)):
            if role not in known_roles:
                yield (section, index), f"unknown role {role!r}"
    for role in sorted(set(spec.privileged) & set(spec.material)):
        yield (
            ("material", spec.material.index(role)),
            (f"role {role!r} is both privileged and material"),
        )
    for role, person in spec.owners.items():
        if role not in known_roles:
            yield ("owners", role), f"unknown role {role!r}"
        if person not in known_people:
            yield ("owners", role), f"role {role!r}: unknown owner {person!r}"


def criticality_of(spec: RecertSpec, role: str) -> Criticality:
    if role in spec.privileged:
        return "privileged"
    if role in spec.material:
        return "material"
    return "other"


def supports_critical_function(spec: RecertSpec, role: str) -> bool:
    return role in spec.critical_functions


def review_months(spec: RecertSpec, criticality: Criticality, critical_function: bool) -> int:
    """The class's period, shortened to the DORA limit for a critical-function system."""
    months: int = getattr(spec.periods, criticality)
    if critical_function:
        months = min(months, spec.periods.critical_function)
    return months


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the 31st becomes the month's last day."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def due_date(spec: RecertSpec, role: str, last_certified: date) -> date:
    """RECERT-1: when the assignment must be certified again."""
    return add_months(
        last_certified,
        review_months(spec, criticality_of(spec, role), supports_critical_function(spec, role)),
    )


def recert_due(
    spec: RecertSpec, role: str, last_certified: date, moved_on: date | None
) -> tuple[date, bool]:
    """When the assignment must be certified again, and whether a move made it due: a move
    after the last certification brings the review forward to ``transfer_review_days``
    after it (RECERT-1); the periodic date stands when it comes first."""
    periodic = due_date(spec, role, last_certified)
    if moved_on is None or moved_on <= last_certified or spec.transfer_review_days is None:
        return periodic, False
    adhoc = moved_on + timedelta(days=spec.transfer_review_days)
    return (adhoc, True) if adhoc < periodic else (periodic, False)


def suspends_on(spec: RecertSpec, criticality: Criticality, due: date) -> date | None:
    """The first day an open item suspends its assignment; None: it never does."""
    if criticality != "privileged" or spec.suspend_privileged_after_days is None:
        return None
    return due + timedelta(days=spec.suspend_privileged_after_days + 1)


def is_overdue(due: date, decided: bool, day: date) -> bool:
    """An undecided item is overdue from the day after its due date."""
    return not decided and day > due


def manager_chain(
    person: str,
    units: Sequence[str],
    parent: Mapping[str, str | None],
    heads: Mapping[str, Sequence[str]],
    responsible: Mapping[str, Sequence[str]],
) -> list[str]:
    """The person's line managers, nearest first: the heads of their units and of the units
    above, and the board members answering for a unit (Geschäftsverteilungsplan) before the
    board's own head. The person never appears in it."""
    chain: list[str] = []
    for unit in units:
        current: str | None = unit
        seen: set[str] = set()
        while current is not None and current not in seen:
            seen.add(current)
            for manager in (*heads.get(current, ()), *responsible.get(current, ())):
                if manager != person and manager not in chain:
                    chain.append(manager)
            current = parent.get(current)
    return chain


def delegation_related(holder: str, delegations: Iterable[tuple[str, str]]) -> set[str]:
    """Everyone the holder acts for through delegations ``(principal, substitute)``, and
    everyone who acts for the holder, through chains in either direction."""
    acts_for: dict[str, set[str]] = {}
    acted_for_by: dict[str, set[str]] = {}
    for principal, substitute in delegations:
        acts_for.setdefault(substitute, set()).add(principal)
        acted_for_by.setdefault(principal, set()).add(substitute)
    related: set[str] = set()
    for edges in (acts_for, acted_for_by):
        todo = [holder]
        seen = {holder}
        while todo:
            for other in edges.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        related |= seen - {holder}
    return related


def reviewer_for(
    spec: RecertSpec,
    holder: str,
    role: str,
    managers: Sequence[str],
    excluded: Iterable[str],
) -> str | None:
    """Who reviews ``holder``'s ``role``: the role owner or the nearest line manager, as the
    policy says, then the next one up. Never the holder, nor anyone in ``excluded`` (the
    holder's principals and substitutes through delegations, people holding the role
    themselves). None: nobody may."""
    barred = {holder, *excluded}
    candidates = list(managers)
    owner = spec.owners.get(role)
    if owner is not None and spec.reviewer == "role_owner":
        candidates.insert(0, owner)
    elif owner is not None:
        candidates.append(owner)
    return next((c for c in candidates if c not in barred), None)


@dataclass(frozen=True)
class Burst:
    """A run of decisions by one reviewer, more than the policy allows in the time."""

    reviewer: str
    start: datetime
    end: datetime
    items: int


def rubber_stamps(
    decisions: Iterable[tuple[str, datetime]], items: int, seconds: int
) -> list[Burst]:
    """Every maximal run in which some ``items + 1`` consecutive decisions of one reviewer
    lie less than ``seconds`` apart (first to last), merged where runs overlap."""
    by_reviewer: dict[str, list[datetime]] = {}
    for reviewer, at in decisions:
        by_reviewer.setdefault(reviewer, []).append(at)
    window = timedelta(seconds=seconds)
    bursts: list[Burst] = []
    for reviewer in sorted(by_reviewer):
        times = sorted(by_reviewer[reviewer])
        run: tuple[int, int] | None = None
        for end in range(items, len(times)):
            start = end - items
            if times[end] - times[start] >= window:
                continue
            if run is not None and start <= run[1]:
                run = (run[0], end)
                continue
            if run is not None:
                bursts.append(_burst(reviewer, times, run))
            run = (start, end)
        if run is not None:
            bursts.append(_burst(reviewer, times, run))
    return bursts


def _burst(reviewer: str, times: Sequence[datetime], run: tuple[int, int]) -> Burst:
    return Burst(reviewer, times[run[0]], times[run[1]], run[1] - run[0] + 1)
