"""Chinese walls (#8): information areas and barriers, Brewer–Nash, watch and restricted lists,
wall crossings. Pure rules over plain data; the ``walls`` app persists and asks.

Rules, with their ids (RULES.md §3 and §4.2; docs/walls.md):

- CW-1: walled data belongs to an information area (research, the private side, …). The
  people inside the area read it, and so do the people of an area it is *not* walled off
  from, and control (compliance, internal audit). Nobody else.
- CW-2: anyone else reads it only through an approved wall crossing: for one deal project
  (so one issuer), for a limited time, approved by compliance; it ends by itself.
- CW-3: research may not be published, and personal or proprietary trades are refused,
  in an issuer on the restricted list (visible firm-wide).
- CW-4: the watch list (issuers with a confidential mandate) restricts nothing and is
  seen by compliance only.
- BN-1 (Brewer–Nash): an issuer's confidential data is its dataset; competitors form a
  conflict-of-interest class. A person may read a dataset they already read, or one of a
  class in which they have read nothing: the first read in a class decides the side.
  Public data is always readable. Writing confidential data needs the read rule and no
  other confidential dataset in the person's history (the *-property).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import N_, Denied
from backoffice.core.org import Line
from backoffice.core.payload import FieldType, Identifier
from backoffice.core.processes import ProcessSpec
from backoffice.core.research import QuietPeriods
from backoffice.core.spec import Key, Spec

__all__ = [
    "Kind",
    "AreaSpec",
    "BarrierSpec",
    "ControlSpec",
    "IssuerSpec",
    "ConflictClassSpec",
    "WalledProcessSpec",
    "ResearchSpec",
    "PersonalDealingSpec",
    "WallsSpec",
    "walls_problems",
    "Walls",
    "Datum",
    "Crossing",
    "Reader",
    "ReadAllowed",
    "Project",
    "check_read",
    "check_write",
    "check_restricted",
    "check_crossing",
    "check_crossing_request",
    "check_crossing_position",
    "may_know_project",
    "position_refusal_told",
    "crossing_period",
    "WALL_DENIAL_CODES",
]

#: Every code the walls refuse with, and what it means (docs/walls.md lists them too).
WALL_DENIAL_CODES: dict[str, str] = {
    "wall.not_inside": N_("the data is behind a Chinese wall and you are not inside it"),
    "wall.conflict": N_("you already read confidential data of a competitor in the same class"),
    "wall.restricted": N_("the issuer is on the restricted list"),
    "wall.crossing_unneeded": N_("the person is already inside the wall for this data"),
    "wall.crossing_too_long": N_("a wall crossing may not last that long"),
    "wall.crossing_refused": N_(
        "the person cannot be brought over this wall now; compliance can see why"
    ),
    "wall.project_closed": N_("the deal project is closed"),
    "wall.project_exists": N_("a deal project of that name exists already"),
    "wall.unknown_issuer": N_("there is no such issuer"),
    "wall.unknown_project": N_("there is no such deal project"),
    "wall.invalid": N_("the request is not complete or not possible"),
    "wall.forbidden": N_("only compliance may do this"),
    "wall.four_eyes_required": N_("a restriction is lifted only by a second compliance officer"),
    "wall.not_found": N_("there is nothing here you may see"),
}


class Kind(StrEnum):
    """How secret a piece of issuer data is."""

    PUBLIC = "public"  # sanitised: always readable (BN-1)
    INTERNAL = "internal"  # the firm's own unpublished work (a research draft): CW-1 only
    CONFIDENTIAL = "confidential"  # the issuer's confidential information: CW-1 and BN-1


# -- the policy section ------------------------------------------------------------------


class AreaSpec(Spec):
    """An information area: the units of these lines (or these units) are inside it."""

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    lines: list[Line] = []
    units: list[Key] = []

    @model_validator(mode="after")
    def _has_members(self) -> AreaSpec:
        if not (self.lines or self.units):
            raise ValueError("an area needs 'lines' or 'units' (who is inside it)")
        return self


class BarrierSpec(Spec):
    """CW-1: the data of ``area`` is walled off from the people of the other areas."""

    area: Key
    walled_off_from: Annotated[list[Key], Field(min_length=1)]


class ControlSpec(Spec):
    """Who reads behind every wall to monitor it (compliance, internal audit)."""

    lines: list[Line] = []
    units: list[Key] = []


class IssuerSpec(Spec):
    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]


class ConflictClassSpec(Spec):
    """BN-1: competitors; one person reads the confidential data of at most one of them."""

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    issuers: Annotated[list[IssuerSpec], Field(min_length=1)]


class WalledProcessSpec(Spec):
    """Cases of ``process`` are walled data of ``area``, about the issuer in field ``issuer``."""

    process: Key
    area: Key
    issuer: Identifier = "issuer"
    kind: Kind = Kind.CONFIDENTIAL

    @model_validator(mode="after")
    def _not_public(self) -> WalledProcessSpec:
        if self.kind == Kind.PUBLIC:
            raise ValueError("a walled process holds internal or confidential data, not public")
        return self


class ResearchSpec(Spec):
    """#17 quiet periods (RES-3, RES-4): days after a crossing ends, after an underwriting."""

    quiet_days_after_crossing: Annotated[int, Field(ge=0, le=365)] = 10
    quiet_days_after_underwriting: Annotated[int, Field(ge=0, le=365)] = 10


class PersonalDealingSpec(Spec):
    """#17 personal account dealing: the minimum holding period (PAD-4)."""

    holding_days: Annotated[int, Field(ge=0, le=365)] = 30


class WallsSpec(Spec):
    """The ``walls`` section of a policy, configured by compliance."""

    areas: Annotated[list[AreaSpec], Field(min_length=1)]
    barriers: list[BarrierSpec] = []
    control: ControlSpec = ControlSpec()
    conflict_classes: list[ConflictClassSpec] = []
    walled_processes: list[WalledProcessSpec] = []
    max_crossing_days: Annotated[int, Field(ge=1, le=365)] = 30
    research: ResearchSpec = ResearchSpec()
    personal_dealing: PersonalDealingSpec = PersonalDealingSpec()


Path = tuple[str | int, ...]


def walls_problems(
    spec: WallsSpec, processes: Mapping[str, ProcessSpec], units: Collection[str]
) -> Iterator[tuple[Path, str]]:
    """Reference problems of the walls section as ``(path inside it, message)``."""
    areas = [a.id for a in spec.areas]
    for index, area in enumerate(spec.areas):
        if area.id in areas[:index]:
            yield ("areas", index, "id"), f"duplicate area {area.id!r}"
        for position, unit in enumerate(area.units):
            if unit not in units:
                yield ("areas", index, "units", position), f"unknown unit {unit!r}"
    for position, unit in enumerate(spec.control.units):
        if unit not in units:
            yield ("control", "units", position), f"unknown unit {unit!r}"
    for index, barrier in enumerate(spec.barriers):
        if barrier.area not in areas:
            yield ("barriers", index, "area"), f"unknown area {barrier.area!r}"
        for position, other in enumerate(barrier.walled_off_from):
            path: Path = ("barriers", index, "walled_off_from", position)
            if other not in areas:
                yield path, f"unknown area {other!r}"
            elif other == barrier.area:
                yield path, f"area {other!r} cannot be walled off from itself"
    seen_classes: set[str] = set()
    seen_issuers: set[str] = set()
    for index, conflict_class in enumerate(spec.conflict_classes):
        if conflict_class.id in seen_classes:
            yield ("conflict_classes", index, "id"), f"duplicate class {conflict_class.id!r}"
        seen_classes.add(conflict_class.id)
        for position, issuer in enumerate(conflict_class.issuers):
            if issuer.id in seen_issuers:
                yield (
                    ("conflict_classes", index, "issuers", position, "id"),
                    f"issuer {issuer.id!r} is listed twice (an issuer is in one class)",
                )
            seen_issuers.add(issuer.id)
    walled: set[str] = set()
    for index, item in enumerate(spec.walled_processes):
        base: Path = ("walled_processes", index)
        if item.process in walled:
            yield (*base, "process"), f"process {item.process!r} is listed twice"
        walled.add(item.process)
        if item.area not in areas:
            yield (*base, "area"), f"unknown area {item.area!r}"
        process = processes.get(item.process)
        if process is None:
            yield (*base, "process"), f"unknown process {item.process!r}"
            continue
        issuer_field = process.field(item.issuer)
        if issuer_field is None or issuer_field.type != FieldType.STRING:
            yield (
                (*base, "issuer"),
                f"{item.issuer!r} must name a string field of process {item.process!r}",
            )
        elif not issuer_field.required:
            yield (*base, "issuer"), f"the issuer field {item.issuer!r} must be required"
    for name, process in processes.items():
        if process.effect == "walls.open_project" and name not in walled:
            yield (
                ("walled_processes",),
                f"process {name!r} opens deal projects: list it here, or its mandates "
                "would not be behind the wall",
            )


# -- the rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Datum:
    """A piece of walled data: about which issuer, held by which area, how secret."""

    issuer: str
    area: str
    kind: Kind


@dataclass(frozen=True)
class Crossing:
    """CW-2: ``person`` may read ``issuer``'s data of ``area`` until ``valid_to``."""

    person: str
    project: str
    issuer: str
    area: str
    valid_from: datetime
    valid_to: datetime
    ended: bool = False

    def active(self, at: datetime) -> bool:
        """Expiry is enforced here, at every read, whether or not ``walls expire`` ran."""
        return not self.ended and self.valid_from <= at < self.valid_to


@dataclass(frozen=True)
class Reader:
    """A person as the walls see them: where they work, what they read, where they crossed."""

    facts: ActorFacts
    #: BN-1: issuers whose confidential data the person has read (their datasets)
    history: frozenset[str] = frozenset()
    crossings: tuple[Crossing, ...] = ()

    @property
    def person(self) -> str:
        return self.facts.person

    def crossed(self, issuer: str, area: str, at: datetime) -> Crossing | None:
        return next(
            (c for c in self.crossings if c.issuer == issuer and c.area == area and c.active(at)),
            None,
        )


@dataclass(frozen=True)
class WallPosition:
    """A reader now, and the deal projects they are inside of, as ``(issuer, area)``: what
    the lists and the case filters of one request need to know about them (#14)."""

    reader: Reader
    insider_of: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class ReadAllowed:
    """A read is allowed; ``records`` says it adds the dataset to the reader's history."""

    records: bool = False
    via: str = ""  # "control", "inside", "crossing" or "public": why, for the record


@dataclass(frozen=True)
class Project:
    """A deal project as a crossing needs it: the issuer, the area, whether it is open."""

    key: str
    name: str
    issuer: str
    area: str
    open: bool = True


@dataclass(frozen=True)
class Walls:
    """The walls section of the live policy, as the rules use it."""

    areas: Mapping[str, AreaSpec] = field(default_factory=dict)
    #: (area whose data, area of the readers) pairs that a barrier separates
    walled_off: frozenset[tuple[str, str]] = frozenset()
    control_lines: frozenset[Line] = frozenset()
    control_units: frozenset[str] = frozenset()
    #: issuer -> its conflict-of-interest class
    classes: Mapping[str, str] = field(default_factory=dict)
    issuer_names: Mapping[str, str] = field(default_factory=dict)
    class_names: Mapping[str, str] = field(default_factory=dict)
    processes: Mapping[str, WalledProcessSpec] = field(default_factory=dict)
    max_crossing_days: int = 30
    quiet: QuietPeriods = QuietPeriods()
    holding_days: int = 30

    @classmethod
    def from_spec(cls, spec: WallsSpec | None) -> Walls:
        if spec is None:
            return cls()
        return cls(
            areas={a.id: a for a in spec.areas},
            walled_off=frozenset(
                (b.area, other) for b in spec.barriers for other in b.walled_off_from
            ),
            control_lines=frozenset(spec.control.lines),
            control_units=frozenset(spec.control.units),
            classes={i.id: c.id for c in spec.conflict_classes for i in c.issuers},
            issuer_names={i.id: i.name for c in spec.conflict_classes for i in c.issuers},
            class_names={c.id: c.name for c in spec.conflict_classes},
            processes={p.process: p for p in spec.walled_processes},
            max_crossing_days=spec.max_crossing_days,
            quiet=QuietPeriods(
                spec.research.quiet_days_after_crossing,
                spec.research.quiet_days_after_underwriting,
            ),
            holding_days=spec.personal_dealing.holding_days,
        )

    def issuer_name(self, issuer: str) -> str:
        return self.issuer_names.get(issuer, issuer)

    def area_name(self, area: str) -> str:
        spec = self.areas.get(area)
        return spec.name if spec else area

    def areas_of(self, facts: ActorFacts) -> frozenset[str]:
        """The areas a person is inside today, by their lines and units."""
        return frozenset(
            a.id
            for a in self.areas.values()
            if facts.lines.intersection(a.lines) or facts.units.intersection(a.units)
        )

    def is_control(self, facts: ActorFacts) -> bool:
        return bool(
            facts.lines.intersection(self.control_lines)
            or facts.units.intersection(self.control_units)
        )

    def inside(self, facts: ActorFacts, area: str) -> bool:
        """CW-1: in the area, or in an area the area is not walled off from."""
        return any(
            mine == area or (area, mine) not in self.walled_off for mine in self.areas_of(facts)
        )

    def competitors_read(self, issuer: str, history: Iterable[str]) -> list[str]:
        """BN-1: datasets in the reader's history that conflict with ``issuer``'s."""
        conflict_class = self.classes.get(issuer)
        if conflict_class is None:
            return []
        return sorted(h for h in history if h != issuer and self.classes.get(h) == conflict_class)

    def readable_issuers(
        self, reader: Reader, datum_area: str, kind: Kind, issuers: Iterable[str], at: datetime
    ) -> set[str]:
        """Of ``issuers``, those whose data of ``datum_area`` and ``kind`` ``reader`` may read."""
        return {
            i
            for i in issuers
            if isinstance(check_read(self, reader, Datum(i, datum_area, kind), at), ReadAllowed)
        }


def check_read(walls: Walls, reader: Reader, datum: Datum, at: datetime) -> ReadAllowed | Denied:
    """The read rule: CW-1 (areas), CW-2 (crossings), BN-1 (conflict classes), in that order."""
    if datum.kind == Kind.PUBLIC:
        return ReadAllowed(via="public")
    if walls.is_control(reader.facts):
        # Compliance and audit monitor every side; their reads bind them to none (CW-1).
        return ReadAllowed(via="control")
    via = "inside"
    if not walls.inside(reader.facts, datum.area):
        if reader.crossed(datum.issuer, datum.area, at) is None:
            return Denied(
                "wall.not_inside",
                f"This is {walls.area_name(datum.area)} information behind a Chinese wall, and "
                "you are not inside it (CW-1). Compliance can bring you over the wall for a "
                "project (a wall-crossing case, CW-2).",
            )
        via = "crossing"
    if datum.kind == Kind.CONFIDENTIAL:
        conflicting = walls.competitors_read(datum.issuer, reader.history)
        if conflicting:
            return _conflict(walls, datum.issuer, conflicting)
        return ReadAllowed(records=datum.issuer not in reader.history, via=via)
    return ReadAllowed(via=via)


def check_write(walls: Walls, reader: Reader, datum: Datum, at: datetime) -> ReadAllowed | Denied:
    """BN-1 *-property: write only what you may read, and only with no other dataset read.

    Otherwise what someone learnt from one issuer could flow into another's data.
    """
    allowed = check_read(walls, reader, datum, at)
    if isinstance(allowed, Denied) or datum.kind != Kind.CONFIDENTIAL or allowed.via == "control":
        return allowed
    others = sorted(reader.history - {datum.issuer})
    if others:
        names = ", ".join(walls.issuer_name(i) for i in others)
        return Denied(
            "wall.conflict",
            f"You have read confidential data of {names}; writing confidential data of "
            f"{walls.issuer_name(datum.issuer)} could carry it across (BN-1, *-property).",
        )
    return allowed


def _conflict(walls: Walls, issuer: str, conflicting: list[str]) -> Denied:
    conflict_class = walls.classes[issuer]
    return Denied(
        "wall.conflict",
        f"You have read confidential data of {', '.join(walls.issuer_name(i) for i in conflicting)}"
        f", a competitor of {walls.issuer_name(issuer)} in the class "
        f"{walls.class_names.get(conflict_class, conflict_class)} (Brewer–Nash, BN-1). Only "
        "compliance can reset your history.",
    )


def check_restricted(
    walls: Walls, issuer: str, restricted: Collection[str], activity: str
) -> Denied | None:
    """CW-3: no research, no personal or proprietary trade in a restricted issuer."""
    if issuer in restricted:
        return Denied(
            "wall.restricted",
            f"{walls.issuer_name(issuer)} is on the restricted list: {activity} is not allowed "
            "(CW-3). Compliance decides when it comes off the list.",
        )
    return None


def check_crossing(
    walls: Walls, reader: Reader, project: Project, days: int, at: datetime
) -> Denied | None:
    """CW-2: a crossing is for an open project, a limited time, someone outside, no conflict."""
    return check_crossing_request(walls, reader.facts, project, days) or (
        check_crossing_position(walls, reader, project, at)
    )


def check_crossing_request(
    walls: Walls, person: ActorFacts, project: Project, days: int
) -> Denied | None:
    """CW-2 on the request itself: an open project, 1 to ``max_crossing_days`` days, and a
    person not inside the project's area by their unit (the organisation says so)."""
    if not project.open:
        return Denied("wall.project_closed", f"The project {project.name} is closed.")
    if days < 1 or days > walls.max_crossing_days:
        return Denied(
            "wall.crossing_too_long",
            f"A wall crossing lasts 1 to {walls.max_crossing_days} days; {days} were asked for.",
        )
    if walls.is_control(person) or walls.inside(person, project.area):
        return Denied(
            "wall.crossing_unneeded",
            f"{person.name or person.person} is already inside the "
            f"{walls.area_name(project.area)} wall.",
        )
    return None


def check_crossing_position(
    walls: Walls, reader: Reader, project: Project, at: datetime
) -> Denied | None:
    """CW-2 and BN-1 on the person's own position: not over the wall for the issuer already,
    no competitor's confidential data read. Theirs and control's to know (#13)."""
    name = reader.facts.name or reader.person
    if reader.crossed(project.issuer, project.area, at) is not None:
        return Denied(
            "wall.crossing_unneeded",
            f"{name} is already over the wall for {walls.issuer_name(project.issuer)}.",
        )
    conflicting = walls.competitors_read(project.issuer, reader.history)
    if conflicting:
        conflict_class = walls.classes[project.issuer]
        return Denied(
            "wall.conflict",
            f"{name} has read confidential data of "
            f"{', '.join(walls.issuer_name(i) for i in conflicting)}, a competitor of "
            f"{walls.issuer_name(project.issuer)} in the class "
            f"{walls.class_names.get(conflict_class, conflict_class)} (Brewer–Nash, BN-1).",
        )
    return None


def may_know_project(walls: Walls, reader: Reader, project: Project, at: datetime) -> bool:
    """#13: who may learn that a deal project exists and which issuer it is about: whoever
    may read its mandate (CW-1, CW-2, BN-1), and control. To anyone else an existing
    project answers exactly like one that does not exist."""
    datum = Datum(project.issuer, project.area, Kind.CONFIDENTIAL)
    return walls.is_control(reader.facts) or isinstance(
        check_read(walls, reader, datum, at), ReadAllowed
    )


def position_refusal_told(
    walls: Walls, asker: ActorFacts, person: ActorFacts, refusal: Denied
) -> Denied:
    """#13: what the asker hears of a refusal from ``check_crossing_position``.

    The person hears it as it is (their own crossings, their own history). Anyone else
    hears that the crossing cannot be, not why: neither the issuer of another deal nor the
    person's position; control reads the reason in the details, for the decision, while
    the case's history (which the requester sees) keeps only what everyone may know.
    """
    if asker.person == person.person:
        return refusal
    details: tuple[tuple[str, Any], ...] = ()
    if walls.is_control(asker):
        details = (("person", f"{refusal.message} ({refusal.code})"),)
    return Denied(
        "wall.crossing_refused",
        f"{person.name or person.person} cannot be brought over this wall now. Compliance "
        "can see why (CW-2).",
        details,
    )


def crossing_period(start: datetime, days: int) -> tuple[datetime, datetime]:
    """From the release, for ``days`` days: it ends by itself (CW-2)."""
    return start, start + timedelta(days=days)
