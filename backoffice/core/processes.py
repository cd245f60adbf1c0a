"""Process definitions: who starts, which steps need how many approvals, who may not act.

A process is data in the policy. Its rules are evaluated only by ``four_eyes.decide``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from backoffice.core.expressions import ExpressionError, referenced_names
from backoffice.core.labels import Label, Name
from backoffice.core.org import Line
from backoffice.core.payload import FieldSpec, FieldType, Identifier, field_variable_names
from backoffice.core.spec import Key, Permission, Spec
from backoffice.core.tolerance import NUMERIC_TYPES, ToleranceSpec

__all__ = [
    "StepAction",
    "WhoSpec",
    "TierSpec",
    "ExcludeSpec",
    "StepSpec",
    "AggregateSpec",
    "CoolingOffSpec",
    "ProcessSpec",
    "process_problems",
]


class StepAction(StrEnum):
    APPROVE = "approve"
    RELEASE = "release"


class WhoSpec(Spec):
    """Who may act: every list given must match (a line AND a role, say); within a list, any."""

    lines: list[Line] = []
    roles: list[Key] = []
    units: list[Key] = []
    permissions: list[Permission] = []

    @property
    def is_empty(self) -> bool:
        return not (self.lines or self.roles or self.units or self.permissions)

    def describe(self, words: Mapping[str, str] | None = None) -> str:
        """Who, in words a person reads: the names of the roles that grant a permission,
        units and roles by their names (``words``: ``who_words`` of the policy, keyed
        ``role:<id>``, ``unit:<id>``, ``permission:<p>``); without them, the ids."""
        said = words or {}

        def named(kind: str, ids: Iterable[str]) -> str:
            return " or ".join(said.get(f"{kind}:{i}", i) for i in ids)

        parts = []
        if self.lines:
            parts.append("the " + " or ".join(line.label for line in self.lines) + " line")
        if self.roles:
            parts.append(("" if said else "role ") + named("role", self.roles))
        if self.units:
            parts.append(("members of " if said else "unit ") + named("unit", self.units))
        if self.permissions:
            parts.append(
                named("permission", self.permissions)
                if said
                else "permission " + " or ".join(self.permissions)
            )
        return " and ".join(parts) or "anyone"


class TierSpec(Spec):
    """How many distinct approvals a step needs when ``when`` holds (N-eyes by amount).

    #16: a tier may also name an amount band of the process's ``amount``: from
    ``at_least`` (inclusive) up to ``below`` (exclusive). Bands of one step must follow on
    from each other without a gap, the last one open upwards (``policy check`` says where).
    """

    when: str = "true"
    at_least: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] | None = None
    below: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)] | None = None
    approvals: Annotated[int, Field(ge=1, le=9)] = 1
    board: Annotated[int, Field(ge=0, le=9)] = 0
    label: Label = Label()

    @model_validator(mode="after")
    def _board_fits(self) -> TierSpec:
        if self.board > self.approvals:
            raise ValueError("'board' cannot exceed 'approvals'")
        if self.at_least is not None and self.below is not None and self.below <= self.at_least:
            raise ValueError("'below' must be above 'at_least'")
        return self

    @property
    def banded(self) -> bool:
        return self.at_least is not None or self.below is not None

    @property
    def always(self) -> bool:
        """Whether the tier applies whatever the payload (no condition, no upper bound)."""
        return self.when == "true" and self.below is None

    def in_band(self, amount: float | None) -> bool:
        """Whether ``amount`` lies in the tier's band; a missing amount lies in none."""
        if not self.banded:
            return True
        if amount is None:
            return False
        low = self.at_least is None or Decimal(str(amount)) >= self.at_least
        return low and (self.below is None or Decimal(str(amount)) < self.below)


class CoolingOffSpec(Spec):
    """#16 (COOL-1 generalised): whoever maintained an object may not act on it for a while.

    People who started or approved a case of ``process`` whose ``other_field`` (default:
    ``field``) had the value this case has in ``field`` — a vendor's master data, say —
    within the last ``days`` days may not act on this step (release a payment to it).
    Rejected and withdrawn cases changed nothing and do not count.
    """

    process: Key
    field: Identifier
    other_field: Identifier | None = None
    days: Annotated[int, Field(ge=1, le=3650)]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.process, self.other_field or self.field, self.field)


class ExcludeSpec(Spec):
    """Dynamic SoD: who may not act on this step besides the maker (never allowed)."""

    steps: list[Identifier] = []
    lines: list[Line] = []
    beneficiaries: list[Identifier] = []
    #: #16: those who maintained the object the case names, recently (COOL-1 on an object)
    maintained: list[CoolingOffSpec] = []


class StepSpec(Spec):
    id: Identifier
    name: Name
    action: StepAction = StepAction.APPROVE
    who: WhoSpec
    authority: Identifier | None = None
    tiers: Annotated[list[TierSpec], Field(min_length=1)] = [TierSpec()]
    exclude: ExcludeSpec = ExcludeSpec()
    when: str | None = None

    @model_validator(mode="after")
    def _who_is_named(self) -> StepSpec:
        if self.who.is_empty:
            raise ValueError(
                "a step must say who may act ('who' needs lines, roles, units or permissions)"
            )
        return self


#: The longest window an ``aggregate`` may sum over: the sum is read at every submission.
MAX_AGGREGATE_WINDOW = timedelta(days=31)


class AggregateSpec(Spec):
    """#13: sum this case with the process's other cases for the same ``by`` value.

    Cases whose submission lies within ``window`` (``24h``, ``1d``, ``7d``) before this one
    and that are not rejected, withdrawn or still a draft count, in the same currency; the
    sum picks the tier, so two payments of 9,999 to one creditor do not slip under 10,000.
    """

    by: Identifier
    window: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[hd]$")]

    @property
    def period(self) -> timedelta:
        count, unit = int(self.window[:-1]), self.window[-1]
        return timedelta(hours=count) if unit == "h" else timedelta(days=count)

    @model_validator(mode="after")
    def _bounded(self) -> AggregateSpec:
        if self.period > MAX_AGGREGATE_WINDOW:
            raise ValueError(f"'window' may be at most {MAX_AGGREGATE_WINDOW.days}d")
        return self


def _duration(text: str) -> timedelta:
    count, unit = int(text[:-1]), text[-1]
    return {"m": timedelta(minutes=count), "h": timedelta(hours=count)}.get(unit) or timedelta(
        days=count
    )


class SlaSpec(Spec):
    """#18: how long a case may wait at a step: a reminder to those it waits for after
    ``remind``, an escalation to their line managers after ``escalate`` (``30m``, ``8h``,
    ``2d``)."""

    remind: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[mhd]$")]
    escalate: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[mhd]$")] | None = None

    @property
    def remind_after(self) -> timedelta:
        return _duration(self.remind)

    @property
    def escalate_after(self) -> timedelta | None:
        return _duration(self.escalate) if self.escalate else None

    @model_validator(mode="after")
    def _escalation_later(self) -> SlaSpec:
        after = self.escalate_after
        if after is not None and after <= self.remind_after:
            raise ValueError("'escalate' must come after 'remind'")
        return self


class ProcessSpec(Spec):
    """A critical action done by one person and released by others.

    ``engine`` names who evaluates the process's rules: ``four_eyes`` (the default, steps and
    tiers as below) or ``credit`` (``core.credit``: votes, authority levels, escalation; its
    steps only say who may cast which vote). The cases services dispatch on it.
    """

    id: Key
    engine: Literal["four_eyes", "credit"] = "four_eyes"
    #: #19: a label may carry translations ({en: …, de: …}); as a str it is the English
    name: Name
    description: Label = Label()
    starter: WhoSpec = WhoSpec()
    #: persons named in these fields may not start the case either (IAM-1: no self-requests)
    starter_excludes: list[Identifier] = []
    #: the person named in these fields must be the one who starts it (#13: one delegates
    #: only one's own authority)
    starter_is: list[Identifier] = []
    title: Identifier | None = None
    amount: Identifier | None = None
    effect: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]*$")] | None = None
    #: #13: the tier is picked by this case's amount plus those of related recent cases
    aggregate: AggregateSpec | None = None
    #: #16: true/false variables for the conditions, each a field compared with another
    #: within a tolerance (three-way match: price and quantity against order and receipt)
    tolerances: list[ToleranceSpec] = []
    #: #18: reminder and escalation of a case waiting at a step
    sla: SlaSpec | None = None
    #: #19: the fields naming what the case acts on (an issuer, a person and role): while a
    #: case on the same values is open, a second one is refused and the pending one shown
    one_open_per: list[Identifier] = []
    payload: Annotated[list[FieldSpec], Field(min_length=1)]
    steps: Annotated[list[StepSpec], Field(min_length=1)]

    @model_serializer(mode="wrap")
    def _without_unset_sla(self, handler: SerializerFunctionWrapHandler) -> Any:
        """#18: a process without an SLA is stored as before there were SLAs, so a policy
        load does not report every process as changed."""
        dumped = handler(self)
        if isinstance(dumped, dict) and dumped.get("sla", 0) is None:
            dumped.pop("sla")
        return dumped

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.payload if f.name == name), None)

    def step(self, step_id: str) -> StepSpec:
        return next(s for s in self.steps if s.id == step_id)

    def object_of(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """The values naming what a case with ``payload`` acts on (``one_open_per``), or
        None if the process names no object or the payload leaves one of them out."""
        if not self.one_open_per:
            return None
        values = {name: payload.get(name) for name in self.one_open_per}
        if any(v in (None, "") or isinstance(v, dict | list) for v in values.values()):
            return None
        return values


def process_problems(
    process: ProcessSpec, roles: set[str], units: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Reference problems of one process as ``(path inside the process, message)``."""
    names = [f.name for f in process.payload]
    for index, name in enumerate(names):
        if name in names[:index]:
            yield ("payload", index, "name"), f"duplicate field {name!r}"
    variables = field_variable_names(process.payload)
    for index, tolerance in enumerate(process.tolerances):
        if tolerance.name in variables:
            yield ("tolerances", index, "name"), f"{tolerance.name!r} is already a field name"
        for key in ("field", "against"):
            spec = process.field(getattr(tolerance, key))
            if spec is None or spec.type not in NUMERIC_TYPES:
                yield (
                    ("tolerances", index, key),
                    f"{getattr(tolerance, key)!r} must name an amount or integer field",
                )
        variables = variables | {tolerance.name}

    def field_of_type(
        path: tuple[str | int, ...], name: str | None, kind: FieldType
    ) -> Iterator[tuple[tuple[str | int, ...], str]]:
        spec = process.field(name) if name else None
        if name is not None and (spec is None or spec.type != kind):
            yield path, f"{name!r} must name a {kind.value} field of the payload"

    if process.title is not None and process.field(process.title) is None:
        yield ("title",), f"{process.title!r} must name a field of the payload"
    yield from field_of_type(("amount",), process.amount, FieldType.AMOUNT)
    if process.aggregate is not None:
        yield from _aggregate_problems(process, process.aggregate)
    for position, name in enumerate(process.one_open_per):
        spec = process.field(name)
        if spec is None:
            yield ("one_open_per", position), f"{name!r} must name a field of the payload"
        elif spec.type in (FieldType.AMOUNT, FieldType.TEXT):
            yield ("one_open_per", position), f"a case's object is no {spec.type.value} field"
    for position, name in enumerate(process.starter_excludes):
        spec = process.field(name)
        if spec is None or spec.type not in (FieldType.PERSON, FieldType.UNIT):
            yield ("starter_excludes", position), f"{name!r} must name a person or unit field"
    for position, name in enumerate(process.starter_is):
        yield from field_of_type(("starter_is", position), name, FieldType.PERSON)
    yield from _who_problems(("starter",), process.starter, roles, units)
    seen: list[str] = []
    unconditional = False
    for index, step in enumerate(process.steps):
        base: tuple[str | int, ...] = ("steps", index)
        if step.id in seen:
            yield (*base, "id"), f"duplicate step {step.id!r}"
        yield from _who_problems((*base, "who"), step.who, roles, units)
        yield from field_of_type((*base, "authority"), step.authority, FieldType.AMOUNT)
        for position, earlier in enumerate(step.exclude.steps):
            if earlier not in seen:
                yield (*base, "exclude", "steps", position), f"{earlier!r} is not an earlier step"
        for position, name in enumerate(step.exclude.beneficiaries):
            yield from field_of_type(
                (*base, "exclude", "beneficiaries", position), name, FieldType.PERSON
            )
        conditions = [((*base, "when"), step.when)] if step.when else []
        conditions += [((*base, "tiers", i, "when"), t.when) for i, t in enumerate(step.tiers)]
        for path, source in conditions:
            assert source is not None
            try:
                unknown = referenced_names(source) - variables
            except ExpressionError as exc:
                yield path, str(exc)
                continue
            if unknown:
                yield path, f"condition uses unknown field(s): {', '.join(sorted(unknown))}"
        if not step.tiers[-1].always:
            yield (*base, "tiers"), "the last tier must apply always (leave out 'when', 'below')"
        yield from _band_problems(process, base, step.tiers)
        for position, rule in enumerate(step.exclude.maintained):
            if process.field(rule.field) is None:
                yield (
                    (*base, "exclude", "maintained", position, "field"),
                    f"{rule.field!r} must name a field of the payload",
                )
        unconditional = unconditional or step.when is None
        seen.append(step.id)
    if not unconditional:
        yield ("steps",), "at least one step must always apply, or a maker could release alone"


def _band_problems(
    process: ProcessSpec, base: tuple[str | int, ...], tiers: list[TierSpec]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """#16: amount bands follow on from each other: from 0 (or no lower bound) up, each
    starting where the one before ends, the last open upwards — no amount falls between."""
    if not any(t.banded for t in tiers):
        return
    if process.amount is None:
        yield (*base, "tiers"), "amount bands need the process's 'amount' field"
        return
    reached = Decimal(0)
    for index, tier in enumerate(tiers):
        if not tier.banded:
            continue  # a plain condition (or the catch-all tier) says nothing of bands
        start = tier.at_least if tier.at_least is not None else Decimal(0)
        if start > reached:
            yield (
                (*base, "tiers", index, "at_least"),
                f"tier gap: amounts from {reached:,} to below {start:,} fall under no tier",
            )
        elif start < reached:
            yield (
                (*base, "tiers", index, "at_least"),
                f"tiers overlap: this band starts at {start:,}, the one before ends at {reached:,}",
            )
        if tier.below is None:
            if index != len(tiers) - 1:
                yield (*base, "tiers", index), "only the last tier may be open upwards"
            return
        reached = tier.below


def _aggregate_problems(
    process: ProcessSpec, aggregate: AggregateSpec
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """An aggregate sums the process's ``amount`` over cases with the same ``by`` value."""
    by = process.field(aggregate.by)
    if by is None:
        yield ("aggregate", "by"), f"{aggregate.by!r} must name a field of the payload"
    elif by.type in (FieldType.AMOUNT, FieldType.TEXT, FieldType.BOOLEAN):
        yield ("aggregate", "by"), f"cases are not grouped by a field of type {by.type.value}"
    if process.amount is None:
        yield ("aggregate",), "an aggregate sums the process's 'amount'; name that field"
    if process.engine != "four_eyes":
        yield ("aggregate",), "only the four-eyes engine sums cases (credit sums by group)"


def _who_problems(
    path: tuple[str | int, ...], who: WhoSpec, roles: set[str], units: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for position, role in enumerate(who.roles):
        if role not in roles:
            yield (*path, "roles", position), f"unknown role {role!r}"
    for position, unit in enumerate(who.units):
        if unit not in units:
            yield (*path, "units", position), f"unknown unit {unit!r}"
