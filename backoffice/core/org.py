"""The organisation: units on lines, people, memberships and board responsibilities over time.

The separation checks here are the executable form of MaRisk BTO 1.1 Tz. 1 (market and back
office separated up to and including the board), MaRisk BTO 2 (trading separated from
settlement and control), and KAGB §29(1) / MaRisk AT 4.4.1 (risk control independent of the
units that take risk). Rule ids (ORG-1, ORG-2, ORG-4, RC-2) are those of docs/separation.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import combinations

from typing_extensions import override

from backoffice.core.money import Money

__all__ = [
    "Line",
    "MembershipRole",
    "Period",
    "Unit",
    "Person",
    "Membership",
    "Responsibility",
    "Organisation",
    "Violation",
    "Separation",
    "SEPARATIONS",
    "check_separation",
]


class Line(StrEnum):
    """The function a unit belongs to. Separation is about lines."""

    MANAGEMENT = "management"
    MARKET = "market"
    BACK_OFFICE = "back_office"
    RISK_CONTROL = "risk_control"
    TRADING = "trading"
    SETTLEMENT = "settlement"
    RESEARCH = "research"
    ADVISORY = "advisory"
    UNDERWRITING = "underwriting"
    COMPLIANCE = "compliance"
    INTERNAL_AUDIT = "internal_audit"
    SERVICE = "service"
    STAFF = "staff"
    SUPPORT = "support"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class MembershipRole(StrEnum):
    MEMBER = "member"
    HEAD = "head"
    DEPUTY = "deputy"


@dataclass(frozen=True, order=True)
class Period:
    """Days from ``valid_from`` (inclusive) to ``valid_to`` (exclusive; None: open-ended)."""

    valid_from: date
    valid_to: date | None = None

    def contains(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def overlaps(self, other: Period) -> bool:
        starts_before_other_ends = other.valid_to is None or self.valid_from < other.valid_to
        other_starts_before_end = self.valid_to is None or other.valid_from < self.valid_to
        return (
            starts_before_other_ends
            and other_starts_before_end
            and not (self.is_empty or other.is_empty)
        )

    @property
    def is_empty(self) -> bool:
        return self.valid_to is not None and self.valid_to <= self.valid_from

    @override
    def __str__(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "open end"
        return f"{self.valid_from.isoformat()} – {end}"


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    line: Line  # effective line (inherited from the parent when the policy leaves it out)
    parent: str | None = None
    explicit_line: bool = True


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    competence: Money | None = None


@dataclass(frozen=True)
class Membership:
    person: str
    unit: str
    role: MembershipRole
    period: Period
    #: ORG-3: an approved, time-boxed deployment across lines (why, and who approved it)
    exception: str = ""


@dataclass(frozen=True)
class Responsibility:
    """A board member answers for a unit (and everything under it) during a period."""

    person: str
    unit: str
    period: Period


@dataclass(frozen=True)
class Organisation:
    """A consistent snapshot: every reference resolves and the unit tree has one root."""

    units: Mapping[str, Unit]
    people: Mapping[str, Person] = field(default_factory=dict)
    memberships: tuple[Membership, ...] = ()
    responsibilities: tuple[Responsibility, ...] = ()

    @property
    def root(self) -> str:
        roots = [u.id for u in self.units.values() if u.parent is None]
        if len(roots) != 1:
            raise ValueError(f"the unit tree needs exactly one root, found {len(roots)}")
        return roots[0]

    def chain(self, unit: str) -> list[str]:
        """The unit, its parent, and so on up to the root."""
        result = [unit]
        while (parent := self.units[result[-1]].parent) is not None:
            if parent in result:
                raise ValueError(f"cycle in the unit tree at {parent!r}")
            result.append(parent)
        return result

    def meeting_point(self, a: str, b: str) -> str:
        """The lowest unit that both ``a`` and ``b`` report to."""
        above_a = set(self.chain(a))
        return next(u for u in self.chain(b) if u in above_a)

    def responsible_board_members(self, unit: str) -> list[Responsibility]:
        """Who answers for ``unit``: the responsibilities of its nearest ancestor-or-self."""
        for candidate in self.chain(unit):
            found = [r for r in self.responsibilities if r.unit == candidate]
            if found:
                return found
        return []

    def memberships_of(self, person: str) -> list[Membership]:
        return [m for m in self.memberships if m.person == person]

    def lines_of(self, person: str, day: date) -> set[Line]:
        return {
            self.units[m.unit].line for m in self.memberships_of(person) if m.period.contains(day)
        }

    def units_of(self, person: str, day: date) -> set[str]:
        return {m.unit for m in self.memberships_of(person) if m.period.contains(day)}

    def line_roots(self, line: Line) -> list[Unit]:
        """Units of ``line`` whose parent is on another line: the tops of that line's subtrees."""
        return [
            u
            for u in self.units.values()
            if u.line == line and (u.parent is None or self.units[u.parent].line != line)
        ]

    def name(self, unit_or_person: str) -> str:
        if unit_or_person in self.units:
            return self.units[unit_or_person].name
        if unit_or_person in self.people:
            return self.people[unit_or_person].name
        return unit_or_person


@dataclass(frozen=True, order=True)
class Violation:
    """One broken separation rule, explained in one sentence."""

    rule: str
    message: str
    units: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class Separation:
    rule: str
    a: Line
    b: Line
    source: str
    why: str


#: The pairs of lines kept apart, each with the regulation and the reason.
SEPARATIONS: tuple[Separation, ...] = (
    Separation(
        "ORG-1",
        Line.MARKET,
        Line.BACK_OFFICE,
        "MaRisk BTO 1.1 Tz. 1",
        "the back office casts the independent second vote on what the market initiates",
    ),
    Separation(
        "ORG-4",
        Line.TRADING,
        Line.SETTLEMENT,
        "MaRisk BTO 2",
        "settlement and control must check trading independently",
    ),
    Separation(
        "RC-2",
        Line.MARKET,
        Line.RISK_CONTROL,
        "KAGB §29(1), MaRisk AT 4.4.1",
        "risk control must be independent of the units that take risk",
    ),
    Separation(
        "RC-2",
        Line.TRADING,
        Line.RISK_CONTROL,
        "KAGB §29(1), MaRisk AT 4.4.1",
        "risk control must be independent of the units that take risk",
    ),
)

#: Lines whose chain to the board must name a responsible board member.
ACCOUNTABLE_LINES = frozenset(
    {Line.MARKET, Line.BACK_OFFICE, Line.TRADING, Line.SETTLEMENT, Line.RISK_CONTROL}
)


def check_separation(org: Organisation) -> list[Violation]:
    """Every separation violation in ``org``, sorted; empty means the organisation is compliant."""
    found: set[Violation] = set()
    for sep in SEPARATIONS:
        found.update(_structural(org, sep))
        found.update(_personal(org, sep))
    found.update(_risk_control_heads(org))
    found.update(_unanswered(org))
    return sorted(found)


def _structural(org: Organisation, sep: Separation) -> Iterator[Violation]:
    """Nesting, a meeting point below the board, or a shared board member."""
    root = org.root
    for x in org.line_roots(sep.a) + org.line_roots(sep.b):
        other = sep.b if x.line == sep.a else sep.a
        for above in org.chain(x.id)[1:]:
            if org.units[above].line == other:
                yield Violation(
                    sep.rule,
                    f"{x.name!r} ({x.line.label}) lies under {org.name(above)!r} "
                    f"({other.label}); {sep.a.label} and {sep.b.label} must be separated up to "
                    f"the board because {sep.why} ({sep.source}).",
                    units=(x.id, above),
                )
                break
    for a in org.line_roots(sep.a):
        for b in org.line_roots(sep.b):
            meet = org.meeting_point(a.id, b.id)
            if meet not in (root, a.id, b.id):
                yield Violation(
                    sep.rule,
                    f"{a.name!r} ({sep.a.label}) and {b.name!r} ({sep.b.label}) meet at "
                    f"{org.name(meet)!r} below the board; they may meet only at the board as a "
                    f"whole because {sep.why} ({sep.source}).",
                    units=(a.id, b.id, meet),
                )
            for ra in org.responsible_board_members(a.id):
                for rb in org.responsible_board_members(b.id):
                    if ra.person == rb.person and ra.period.overlaps(rb.period):
                        yield Violation(
                            sep.rule,
                            f"board member {org.name(ra.person)!r} is responsible for both "
                            f"{a.name!r} ({sep.a.label}) and {b.name!r} ({sep.b.label}); they "
                            f"must report to different board members because {sep.why} "
                            f"({sep.source}).",
                            units=(a.id, b.id),
                            people=(ra.person,),
                        )


def _personal(org: Organisation, sep: Separation) -> Iterator[Violation]:
    """ORG-2: nobody belongs to both lines of a separated pair at the same time."""
    for person in org.people:
        mine = org.memberships_of(person)
        for m1, m2 in combinations(mine, 2):
            if m1.exception or m2.exception:
                continue  # ORG-3: approved and time-boxed (checked when the policy is read)
            lines = {org.units[m1.unit].line, org.units[m2.unit].line}
            if lines == {sep.a, sep.b} and m1.period.overlaps(m2.period):
                first, second = sorted((m1, m2), key=lambda m: org.units[m.unit].line != sep.a)
                yield Violation(
                    "ORG-2",
                    f"{org.name(person)!r} is at the same time in {org.name(first.unit)!r} "
                    f"({sep.a.label}, {first.period}) and {org.name(second.unit)!r} "
                    f"({sep.b.label}, {second.period}); nobody may work on both sides because "
                    f"{sep.why} ({sep.source}).",
                    units=(first.unit, second.unit),
                    people=(person,),
                )


def _risk_control_heads(org: Organisation) -> Iterator[Violation]:
    """RC-2: nobody heading a unit above risk control also works in market or trading."""
    risk_taking = {Line.MARKET, Line.TRADING}
    root = org.root
    for rc in org.line_roots(Line.RISK_CONTROL):
        for above in org.chain(rc.id)[1:]:
            if above == root:
                break
            heads = [
                m
                for m in org.memberships
                if m.unit == above and m.role in (MembershipRole.HEAD, MembershipRole.DEPUTY)
            ]
            for head in heads:
                for other in org.memberships_of(head.person):
                    line = org.units[other.unit].line
                    if line in risk_taking and other.period.overlaps(head.period):
                        yield Violation(
                            "RC-2",
                            f"{org.name(head.person)!r} heads {org.name(above)!r}, above risk "
                            f"control unit {rc.name!r}, while working in "
                            f"{org.name(other.unit)!r} ({line.label}); risk control must be "
                            "independent of the units that take risk (KAGB §29(1), "
                            "MaRisk AT 4.4.1).",
                            units=(rc.id, above, other.unit),
                            people=(head.person,),
                        )


def _unanswered(org: Organisation) -> Iterable[Violation]:
    """ORG-1: a separated line must end at a named board member, not at nobody."""
    for line in sorted(ACCOUNTABLE_LINES):
        for unit in org.line_roots(line):
            if not org.responsible_board_members(unit.id):
                yield Violation(
                    "ORG-1",
                    f"{unit.name!r} ({line.label}) has no responsible board member; each "
                    "separated line must report to a named board member (MaRisk BTO 1.1 Tz. 1).",
                    units=(unit.id,),
                )
