"""Access governance online (#6): the rule set of the policy and what a role grant may do.

The policy's ``access`` section names business functions (sets of permissions), risks
(2..5 functions nobody may hold together, RULES.md §5 SOD-1) and SSD constraints (role
sets of which nobody may hold ``n``, NIST RBAC §5.3.1, hierarchy-aware: a role counts when
it is held or contained in a held role). A grant is judged by :func:`assess_grant`:

- ACC-1: a grant that breaks an SSD constraint is refused (``access.ssd``);
- ACC-2: a grant that creates a *critical* risk is refused (``access.critical_risk``),
  mitigated or not;
- ACC-3: a grant that creates a lower risk needs an active mitigation of that risk for
  that person (IAM-3) or a second-level approval; without either it waits for one.

The risks are evaluated with the compiled bitsets of :mod:`backoffice.core.accessrisk` —
the same code as the bulk analysis, so the online answer and the batch report agree. It
loads numpy, so it is imported only when a rule set is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from backoffice.core.dsd import DsdSpec
from backoffice.core.emergency import EmergencySpec, emergency_problems
from backoffice.core.errors import N_
from backoffice.core.roles import expand_roles
from backoffice.core.spec import Key, Permission, RoleSetConstraint, Spec

if TYPE_CHECKING:
    from backoffice.core.accessrisk import CompiledRules, RiskChange

__all__ = [
    "Level",
    "FunctionSpec",
    "RiskSpec",
    "SsdSpec",
    "DelegationRuleSpec",
    "AccessSpec",
    "RoleFacts",
    "access_problems",
    "AccessRules",
    "SsdBreach",
    "Assessment",
    "assess_grant",
    "grant_problems",
    "ACCESS_DENIAL_CODES",
]

Level = Literal["critical", "high", "medium", "low"]
#: most severe first, as in the bulk analysis
LEVELS: tuple[Level, ...] = ("critical", "high", "medium", "low")

ACCESS_DENIAL_CODES = {
    "access.ssd": N_("the grant would break a static separation-of-duties constraint"),
    "access.critical_risk": N_("the grant would create a critical access risk"),
    "access.assessment_changed": N_("the person's access changed since the case was assessed"),
    "access.unknown_role": N_("there is no such role"),
    "access.unknown_risk": N_("there is no such access risk"),
}


class FunctionSpec(Spec):
    """A business function: holding any one of its permissions means having it.

    ``actions`` are the names under which event logs record performing it — Backoffice's
    own audit actions or another system's — for the actual conflicts of
    ``sod actual --live`` (#15); an action that is one of the permissions needs no entry.
    """

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    permissions: Annotated[list[Permission], Field(min_length=1)]
    actions: list[Permission] = []


class RiskSpec(Spec):
    """2..5 functions one person may not hold together (SOD-1), with who answers for it."""

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    level: Level
    owner: Key
    functions: Annotated[list[Key], Field(min_length=2, max_length=5)]
    description: str = ""

    @model_validator(mode="after")
    def _distinct(self) -> RiskSpec:
        if len(set(self.functions)) != len(self.functions):
            raise ValueError("a risk names each function once")
        return self


class SsdSpec(RoleSetConstraint):
    """NIST RBAC SSD ``(roles, n)``: nobody is authorised for ``n`` or more of ``roles``."""

    KIND: ClassVar[str] = "an SSD"


class DelegationRuleSpec(Spec):
    """#13: a delegation that would give the substitute a *high* access risk is refused
    (``refuse``) or needs compliance's approval in a ``delegation`` case (``compliance``).
    A critical risk or an SSD breach is always refused."""

    high: Literal["refuse", "compliance"] = "refuse"


class AccessSpec(Spec):
    functions: list[FunctionSpec] = []
    risks: list[RiskSpec] = []
    ssd: list[SsdSpec] = []
    #: #15: NIST RBAC DSD over roles with ``activation: session`` (core.dsd)
    dsd: list[DsdSpec] = []
    delegation: DelegationRuleSpec = DelegationRuleSpec()
    #: #15: who may take which role at once in an emergency (core.emergency)
    emergency: EmergencySpec | None = None


@dataclass(frozen=True)
class RoleFacts:
    """A role as the rule set needs it: what it grants directly and which roles it contains."""

    id: str
    permissions: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()


def access_problems(
    spec: AccessSpec,
    roles: Mapping[str, RoleFacts],
    people: Iterable[str],
    session_roles: Iterable[str] = (),
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """References: functions, owners and roles exist, ids are unique, and no single role is
    already authorised for ``n`` roles of an SSD constraint (nobody could ever hold it)."""
    known_people = set(people)
    session_roles = frozenset(session_roles)
    sections: tuple[tuple[str, list[str]], ...] = (
        ("functions", [f.id for f in spec.functions]),
        ("risks", [r.id for r in spec.risks]),
        ("ssd", [c.id for c in spec.ssd]),
        ("dsd", [c.id for c in spec.dsd]),
    )
    for section, ids in sections:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                yield (section, index, "id"), f"duplicate id {item_id!r}"
            seen.add(item_id)
    functions = {f.id for f in spec.functions}
    for index, risk in enumerate(spec.risks):
        for position, function in enumerate(risk.functions):
            if function not in functions:
                yield ("risks", index, "functions", position), f"unknown function {function!r}"
        if risk.owner not in known_people:
            yield ("risks", index, "owner"), f"unknown person {risk.owner!r}"
    contains = {r.id: r.contains for r in roles.values()}
    for index, ssd in enumerate(spec.ssd):
        unknown = [r for r in ssd.roles if r not in roles]
        for role in unknown:
            yield ("ssd", index, "roles", ssd.roles.index(role)), f"unknown role {role!r}"
        if unknown:
            continue
        for role in roles:
            inside = expand_roles([role], contains) & set(ssd.roles)
            if len(inside) >= ssd.n:
                yield (
                    ("ssd", index),
                    f"role {role!r} alone is authorised for {', '.join(sorted(inside))}: "
                    f"{ssd.id} allows fewer than {ssd.n}",
                )
    for index, dsd in enumerate(spec.dsd):
        for position, role in enumerate(dsd.roles):
            if role not in roles:
                yield ("dsd", index, "roles", position), f"unknown role {role!r}"
            elif role not in session_roles:
                yield (
                    ("dsd", index, "roles", position),
                    f"role {role!r} is not activated per session (activation: session): "
                    f"a DSD constraint over it would be an SSD constraint",
                )
    if spec.emergency is not None:
        yield from emergency_problems(spec.emergency, roles, known_people)


@dataclass(frozen=True)
class SsdBreach:
    constraint: str
    name: str
    n: int
    #: the roles of the set the person would be authorised for, and the held role behind each
    roles: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Assessment:
    """What a grant would do to one person's access, and what that means for the grant."""

    gained: tuple[RiskChange, ...]
    lost: tuple[RiskChange, ...]
    ssd: tuple[SsdBreach, ...]
    #: gained risks an active mitigation covers (IAM-3)
    mitigated: frozenset[str]

    @property
    def critical(self) -> tuple[RiskChange, ...]:
        return tuple(r for r in self.gained if r.level == "critical")

    @property
    def refusal(self) -> tuple[str, str] | None:
        """``(code, message)`` when the grant may not happen at all (ACC-1, ACC-2)."""
        if self.ssd:
            named = "; ".join(
                f"{b.constraint} ({b.name}): "
                + ", ".join(r if r == via else f"{r} (through {via})" for r, via in b.roles)
                for b in self.ssd
            )
            return "access.ssd", f"The grant would break separation of duties — {named}."
        if self.critical:
            named = ", ".join(r.risk for r in self.critical)
            return (
                "access.critical_risk",
                f"The grant would create a critical access risk: {named}.",
            )
        return None

    @property
    def risk(self) -> str:
        """The most severe gained risk level no mitigation covers, or ``none`` (ACC-3)."""
        open_levels = {r.level for r in self.gained if r.risk not in self.mitigated}
        return next((level for level in LEVELS if level in open_levels), "none")


class AccessRules:
    """The rule set compiled once per policy version: risks as bitsets, SSD, role hierarchy."""

    def __init__(self, spec: AccessSpec, roles: Iterable[RoleFacts]) -> None:
        from backoffice.core.accessrisk import rules_from_data

        role_list = list(roles)
        self.spec = spec
        self.risks = {r.id: r for r in spec.risks}
        self.contains = {r.id: r.contains for r in role_list}
        self.compiled: CompiledRules = rules_from_data(
            roles=[r.id for r in role_list],
            grants=[(r.id, p) for r in role_list for p in r.permissions],
            contains=[(r.id, c) for r in role_list for c in r.contains],
            functions=[(f.id, p) for f in spec.functions for p in f.permissions],
            risks=[(r.id, r.level, f) for r in spec.risks for f in r.functions],
        )

    def knows(self, role: str) -> bool:
        return role in self.contains

    @cached_property
    def by_permission(self) -> CompiledRules:
        """The risks compiled once more with one pseudo-role per permission (named as it):
        for judging permissions held outside one's roles — acting for someone (#13)."""
        from backoffice.core.accessrisk import rules_from_data

        permissions = sorted({p for f in self.spec.functions for p in f.permissions})
        return rules_from_data(
            roles=permissions,
            grants=[(p, p) for p in permissions],
            contains=[],
            functions=[(f.id, p) for f in self.spec.functions for p in f.permissions],
            risks=[(r.id, r.level, f) for r in self.spec.risks for f in r.functions],
        )

    def assess_permissions(
        self, held: Iterable[str], add: Iterable[str], mitigated: Iterable[str] = ()
    ) -> Assessment:
        """What holding the permissions ``add`` besides ``held`` would mean (no SSD: SSD
        constraints are about roles). Permissions no function names change nothing."""
        from backoffice.core.accessrisk import simulate

        known = self.by_permission.role_index.keys()
        what_if = simulate(self.by_permission, set(held) & known, set(add) & known)
        covered = set(mitigated)
        return Assessment(
            gained=what_if.gained,
            lost=(),
            ssd=(),
            mitigated=frozenset(r.risk for r in what_if.gained if r.risk in covered),
        )

    def ssd_breaches(self, held: Iterable[str]) -> tuple[SsdBreach, ...]:
        """Every SSD constraint ``held`` breaks, counting contained roles (hierarchical SSD)."""
        source: dict[str, str] = {}
        for role in sorted(held):
            for authorised in expand_roles([role], self.contains):
                source.setdefault(authorised, role)
        breaches = []
        for ssd in self.spec.ssd:
            inside = tuple((r, source[r]) for r in ssd.roles if r in source)
            if len(inside) >= ssd.n:
                breaches.append(SsdBreach(ssd.id, ssd.name, ssd.n, inside))
        return tuple(breaches)

    def risks_of(self, held: Iterable[str]) -> list[str]:
        from backoffice.core.accessrisk import risks_of

        compiled = self.compiled
        return [compiled.risk_ids[k] for k in risks_of(compiled, compiled.indices(held))]


def assess_grant(
    rules: AccessRules,
    held: Iterable[str],
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    mitigated: Iterable[str] = (),
) -> Assessment:
    """What holding ``held + add - remove`` would mean (unknown roles raise ``UnknownRole``).

    SSD breaches are reported only when the change adds them: a person who already breaks
    a constraint (granted before it existed) is not refused an unrelated grant.
    """
    from backoffice.core.accessrisk import simulate

    held = set(held)
    added, removed = set(add), set(remove)
    after = (held | added) - removed
    what_if = simulate(rules.compiled, held, added, removed)
    before_ssd = {b.constraint for b in rules.ssd_breaches(held)}
    new_ssd = tuple(b for b in rules.ssd_breaches(after) if b.constraint not in before_ssd)
    covered = set(mitigated)
    return Assessment(
        gained=what_if.gained,
        lost=what_if.lost,
        ssd=new_ssd,
        mitigated=frozenset(r.risk for r in what_if.gained if r.risk in covered),
    )


def grant_problems(
    rules: AccessRules, grants: Iterable[tuple[str, str, date, date | None]]
) -> Iterator[tuple[int, str]]:
    """Bootstrap grants (person, role, from, to) that break ACC-1 or ACC-2 on any day.

    A person's holdings change only where one of their grants starts, so checking those days
    checks them all. Yields (index of the grant that completes the breach, message).
    """
    by_person: dict[str, list[tuple[int, str, date, date | None]]] = {}
    for index, (person, role, start, end) in enumerate(grants):
        by_person.setdefault(person, []).append((index, role, start, end))
    for person, rows in by_person.items():
        reported: set[str] = set()
        for index, role, day, _ in sorted(rows, key=lambda r: (r[2], r[0])):
            held = {r for _, r, s, e in rows if s <= day and (e is None or day < e)}
            assessment = assess_grant(rules, held - {role}, [role])
            refusal = assessment.refusal
            if refusal is not None and refusal[1] not in reported:
                reported.add(refusal[1])
                yield index, f"{person} on {day.isoformat()}: {refusal[1]}"
