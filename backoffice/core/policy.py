"""The policy file: organisation (and, in later sections, roles, rules and processes) as data.

A policy is read in three passes, and every problem of every pass is reported with its
place in the file, not only the first: YAML syntax (``yamlsource``), shape and types
(pydantic, unknown keys refused), and references (unknown ids, duplicates, cycles).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator
from typing_extensions import override

from backoffice.core.access import (
    AccessRules,
    AccessSpec,
    RoleFacts,
    access_problems,
    grant_problems,
)
from backoffice.core.actors import ActorFacts
from backoffice.core.credit import CreditPolicy, credit_policy_problems, credit_process_problems
from backoffice.core.four_eyes import who_matches
from backoffice.core.labels import Name
from backoffice.core.org import (
    Line,
    Membership,
    MembershipRole,
    Organisation,
    Period,
    Person,
    Responsibility,
    Unit,
)
from backoffice.core.processes import ProcessSpec, process_problems
from backoffice.core.recert import RecertSpec, recert_problems
from backoffice.core.roles import expand_roles, permissions_of
from backoffice.core.spec import Currency, Key, MoneySpec, Permission, Spec
from backoffice.core.trading import TradingPolicy, trading_problems
from backoffice.core.walls import WallsSpec, walls_problems
from backoffice.core.yamlsource import SourceMap, YamlError, load_yaml

__all__ = [
    "Key",
    "MoneySpec",
    "UnitSpec",
    "PersonSpec",
    "MembershipSpec",
    "ResponsibilitySpec",
    "RoleSpec",
    "AssignmentSpec",
    "InstitutionSpec",
    "Policy",
    "Problem",
    "PolicyInvalid",
    "PolicyDocument",
    "parse_policy",
    "to_organisation",
    "summarise",
    "role_facts",
    "access_rules",
    "exception_text",
    "ExceptionSpec",
    "MAX_EXCEPTION_DAYS",
    "BootstrapSpec",
]


class _Dated(Spec):
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> _Dated:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(
                "valid_to must be after valid_from (valid_to is the first day it no longer holds)"
            )
        return self

    @property
    def period(self) -> Period:
        return Period(self.valid_from, self.valid_to)


class UnitSpec(Spec):
    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    line: Line | None = None
    parent: Key | None = None
    description: str = ""


class PersonSpec(Spec):
    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    competence: MoneySpec | None = None
    language: Literal["en", "de"] = "en"


class ExceptionSpec(Spec):
    """ORG-3: why a person works on another line for a while, and the board member who
    approved it."""

    reason: Annotated[str, Field(min_length=1, max_length=500)]
    approved_by: Key


#: ORG-3: a cross-line deployment is time-boxed; half a year at most
MAX_EXCEPTION_DAYS = 183


class MembershipSpec(_Dated):
    person: Key
    unit: Key
    role: MembershipRole = MembershipRole.MEMBER
    #: ORG-3: an approved, time-boxed deployment that may overlap a separated line
    exception: ExceptionSpec | None = None


class ResponsibilitySpec(_Dated):
    """A board member's responsibility for top-level units (Geschäftsverteilungsplan)."""

    person: Key
    units: Annotated[list[Key], Field(min_length=1)]


class RoleSpec(Spec):
    """A role grants permissions and may contain other roles (transitively)."""

    id: Key
    name: Name
    description: str = ""
    permissions: list[Permission] = []
    contains: list[Key] = []
    #: #15 DSD: ``session`` roles are held but inactive until activated for a login session
    activation: Literal["always", "session"] = "always"


class AssignmentSpec(_Dated):
    """A person holds a role for a period (bootstrap grants; later grants need a case)."""

    person: Key
    role: Key


class BootstrapSpec(Spec):
    """#13: who gets the first logins of a fresh installation. Nobody is a superuser: the
    first two administrators each get a set-password link by e-mail from ``backoffice init``,
    and from then on every login is made through a four-eyes ``user-admin`` case."""

    administrators: list[Key] = []


class IdentitySpec(Spec):
    """#18: how a single sign-on token names a person and which roles its groups ask for.

    The login claim names the same person as the password login (one identity, whichever
    way in). A group never grants a role: it makes ``requester`` start a role-grant case,
    which the access checks and a second person decide like any other."""

    login_claim: Annotated[str, Field(min_length=1, max_length=100)] = "preferred_username"
    groups_claim: Annotated[str, Field(min_length=1, max_length=100)] = "groups"
    #: group name (claim value or LDAP group) -> role id
    roles: dict[str, Key] = {}
    #: who starts the role-grant cases that groups ask for (needs access.grant.request)
    requester: Key | None = None


class InstitutionSpec(Spec):
    name: Annotated[str, Field(min_length=1)]
    currency: Currency = "EUR"


class Policy(Spec):
    version: Literal[1]
    institution: InstitutionSpec
    units: Annotated[list[UnitSpec], Field(min_length=1)]
    people: list[PersonSpec] = []
    memberships: list[MembershipSpec] = []
    responsibilities: list[ResponsibilitySpec] = []
    roles: list[RoleSpec] = []
    assignments: list[AssignmentSpec] = []
    processes: list[ProcessSpec] = []
    #: credit decisions (MaRisk BTO 1.1): levels, risk relevance, committee… (core.credit)
    credit: CreditPolicy | None = None
    #: #8: information areas, barriers, conflict classes and walled processes (docs/walls.md)
    walls: WallsSpec | None = None
    #: #6: business functions, access risks and SSD constraints (docs/access.md)
    access: AccessSpec | None = None
    #: #13: the first administrators of a fresh installation (docs/identities.md)
    bootstrap: BootstrapSpec | None = None
    #: #15: review periods, reviewers and overdue rules of access recertification
    recertification: RecertSpec | None = None
    #: #18: single sign-on claims and directory groups (docs/integration.md)
    identity: IdentitySpec | None = None
    #: #17: trading and settlement: instruments, tolerances, cut-off (docs/securities.md)
    trading: TradingPolicy | None = None


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a policy file, at a place a person can go to."""

    file: str
    line: int
    column: int
    message: str

    @override
    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class PolicyInvalid(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class PolicyDocument:
    """A valid policy together with where each of its parts was written."""

    policy: Policy
    source: SourceMap
    file: str

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        where = self.source.locate(path)
        return Problem(self.file, where.line, where.column, message)

    def unit_path(self, unit_id: str) -> tuple[str | int, ...]:
        for index, unit in enumerate(self.policy.units):
            if unit.id == unit_id:
                return ("units", index)
        return ()


def parse_policy(raw: bytes, file: str) -> PolicyDocument:
    """Read and validate a policy; raise ``PolicyInvalid`` listing every problem found."""
    try:
        data, source = load_yaml(raw)
    except YamlError as exc:
        line, column = (exc.location.line, exc.location.column) if exc.location else (1, 1)
        raise PolicyInvalid([Problem(file, line, column, exc.message)]) from None
    if not isinstance(data, dict):
        raise PolicyInvalid(
            [Problem(file, 1, 1, "a policy is a YAML mapping with 'version: 1' at the top")]
        )
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyInvalid(list(_shape_problems(exc, source, file))) from None
    document = PolicyDocument(policy, source, file)
    problems = list(_reference_problems(document))
    if problems:
        raise PolicyInvalid(problems)
    return document


def _shape_problems(exc: ValidationError, source: SourceMap, file: str) -> Iterator[Problem]:
    for error in exc.errors():
        path = tuple(p for p in error["loc"] if isinstance(p, str | int))
        # Pydantic adds the union member or validator name to some paths; keep what exists.
        where = source.locate(path)
        dotted = ".".join(str(p) for p in path) or "policy"
        yield Problem(file, where.line, where.column, f"{dotted}: {_explain(error)}")


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not a valid id or code here"
    if kind == "literal_error" and error["loc"] == ("version",):
        return f"unsupported version {error['input']!r}; this Backoffice reads version 1"
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def _reference_problems(doc: PolicyDocument) -> Iterator[Problem]:
    """Duplicate ids, unknown references, cycles and a tree without one board at its root."""
    policy = doc.policy
    sections: tuple[tuple[str, list[str]], ...] = (
        ("units", [u.id for u in policy.units]),
        ("people", [p.id for p in policy.people]),
        ("roles", [r.id for r in policy.roles]),
    )
    for section, ids in sections:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                yield doc.problem((section, index, "id"), f"duplicate id {item_id!r} in {section}")
            seen.add(item_id)
    units = {u.id: u for u in policy.units}
    people = {p.id for p in policy.people}
    for index, unit in enumerate(policy.units):
        if unit.parent is not None and unit.parent not in units:
            yield doc.problem(
                ("units", index, "parent"), f"unit {unit.id!r}: unknown parent {unit.parent!r}"
            )
    yield from _cycle_problems(doc, units)
    yield from _role_problems(doc)
    role_ids = {r.id for r in policy.roles}
    seen_processes: set[str] = set()
    for index, process in enumerate(policy.processes):
        if process.id in seen_processes:
            yield doc.problem(
                ("processes", index, "id"), f"duplicate id {process.id!r} in processes"
            )
        seen_processes.add(process.id)
        for path, message in process_problems(process, role_ids, set(units)):
            yield doc.problem(("processes", index, *path), f"process {process.id!r}: {message}")
        if process.engine == "credit":
            for path, message in credit_process_problems(process, policy.credit):
                yield doc.problem(("processes", index, *path), f"process {process.id!r}: {message}")
    if policy.recertification is not None:
        for path, message in recert_problems(policy.recertification, role_ids, people):
            yield doc.problem(("recertification", *path), f"recertification: {message}")
    if policy.credit is not None:
        for path, message in credit_policy_problems(policy.credit, role_ids, people):
            yield doc.problem(("credit", *path), f"credit: {message}")
    if policy.walls is not None:
        processes = {p.id: p for p in policy.processes}
        for path, message in walls_problems(policy.walls, processes, units):
            yield doc.problem(("walls", *path), f"walls: {message}")
    if policy.trading is not None:
        for path, message in trading_problems(policy.trading):
            yield doc.problem(("trading", *path), f"trading: {message}")
    if policy.access is not None:
        yield from _access_problems(doc)
    yield from _eligibility_problems(doc, units)
    if policy.bootstrap is not None:
        yield from _bootstrap_problems(doc, policy.bootstrap)
    if policy.identity is not None:
        for group, role in policy.identity.roles.items():
            if role not in role_ids:
                yield doc.problem(("identity", "roles", group), f"identity: unknown role {role!r}")
        requester = policy.identity.requester
        if requester is not None and requester not in people:
            yield doc.problem(("identity", "requester"), f"identity: unknown person {requester!r}")
    roots = [(i, u) for i, u in enumerate(policy.units) if u.parent is None]
    if len(roots) != 1:
        names = ", ".join(repr(u.id) for _, u in roots) or "none"
        yield doc.problem(
            ("units",), f"the unit tree needs exactly one root (the board); found {names}"
        )
    for index, unit in roots:
        if unit.line != Line.MANAGEMENT:
            yield doc.problem(
                ("units", index, "line"),
                f"root unit {unit.id!r} must be the board, with line 'management'",
            )
    board = {u.id for _, u in roots}
    for index, m in enumerate(policy.memberships):
        if m.person not in people:
            yield doc.problem(("memberships", index, "person"), f"unknown person {m.person!r}")
        if m.unit not in units:
            yield doc.problem(("memberships", index, "unit"), f"unknown unit {m.unit!r}")
        if m.exception is not None:
            yield from _exception_problems(doc, index, m, board)
    for index, r in enumerate(policy.responsibilities):
        if r.person not in people:
            yield doc.problem(("responsibilities", index, "person"), f"unknown person {r.person!r}")
        elif not any(
            m.person == r.person and m.unit in board and m.period.overlaps(r.period)
            for m in policy.memberships
        ):
            yield doc.problem(
                ("responsibilities", index, "person"),
                f"{r.person!r} is responsible for units but is not a board member at that time",
            )
        for position, unit_id in enumerate(r.units):
            if unit_id not in units:
                yield doc.problem(
                    ("responsibilities", index, "units", position), f"unknown unit {unit_id!r}"
                )


def _role_problems(doc: PolicyDocument) -> Iterator[Problem]:
    """Roles contain known roles without cycles; assignments name known people and roles."""
    policy = doc.policy
    roles = {r.id: r for r in policy.roles}
    people = {p.id for p in policy.people}
    for index, role in enumerate(policy.roles):
        for position, child in enumerate(role.contains):
            if child not in roles:
                yield doc.problem(
                    ("roles", index, "contains", position),
                    f"role {role.id!r} contains unknown role {child!r}",
                )
    reported: set[str] = set()
    for index, role in enumerate(policy.roles):
        cycle = _find_cycle(
            role.id, {r: [c for c in s.contains if c in roles] for r, s in roles.items()}
        )
        if cycle and not reported.intersection(cycle):
            reported.update(cycle)
            yield doc.problem(
                ("roles", index, "contains"),
                "cycle in the role hierarchy: " + " -> ".join(cycle),
            )
    for index, grant in enumerate(policy.assignments):
        if grant.person not in people:
            yield doc.problem(("assignments", index, "person"), f"unknown person {grant.person!r}")
        if grant.role not in roles:
            yield doc.problem(("assignments", index, "role"), f"unknown role {grant.role!r}")


def _bootstrap_problems(doc: PolicyDocument, bootstrap: BootstrapSpec) -> Iterator[Problem]:
    """#13: two distinct people of the policy, each with an e-mail address for the link:
    one administrator alone could never release the other's user-admin cases."""
    people = {p.id: p for p in doc.policy.people}
    named = bootstrap.administrators
    for position, person in enumerate(named):
        path = ("bootstrap", "administrators", position)
        if person not in people:
            yield doc.problem(path, f"bootstrap: unknown person {person!r}")
        elif people[person].email is None:
            yield doc.problem(
                path, f"bootstrap: {person!r} needs an e-mail address for the set-password link"
            )
    if len(set(named)) < 2:
        yield doc.problem(
            ("bootstrap", "administrators"),
            "bootstrap: name at least two different administrators (four eyes from the start)",
        )


def exception_text(m: MembershipSpec) -> str:
    e = m.exception
    return f"{e.reason} (approved by {e.approved_by})" if e else ""


def _exception_problems(
    doc: PolicyDocument, index: int, m: MembershipSpec, board: set[str]
) -> Iterator[Problem]:
    """ORG-3: time-boxed (an end, at most MAX_EXCEPTION_DAYS), approved by someone else who
    sits on the board when it starts."""
    assert m.exception is not None
    path: tuple[str | int, ...] = ("memberships", index, "exception")
    if m.valid_to is None or (m.valid_to - m.valid_from).days > MAX_EXCEPTION_DAYS:
        yield doc.problem(
            path,
            f"ORG-3: a cross-line deployment of {m.person!r} is time-boxed: it needs a "
            f"valid_to at most {MAX_EXCEPTION_DAYS} days after valid_from",
        )
    approver = m.exception.approved_by
    on_board = any(
        b.person == approver and b.unit in board and b.period.contains(m.valid_from)
        for b in doc.policy.memberships
    )
    if approver == m.person or not on_board:
        yield doc.problem(
            (*path, "approved_by"),
            f"ORG-3: the deployment of {m.person!r} must be approved by another person who "
            f"is a board member on {m.valid_from.isoformat()}",
        )


def role_facts(policy: Policy) -> dict[str, RoleFacts]:
    return {r.id: RoleFacts(r.id, tuple(r.permissions), tuple(r.contains)) for r in policy.roles}


def access_rules(policy: Policy) -> AccessRules | None:
    """The ``access`` section compiled for grants and what-ifs (None: the policy has none)."""
    if policy.access is None:
        return None
    return AccessRules(policy.access, role_facts(policy).values())


#: #13: the effect of the process in which compliance approves a risky delegation
DELEGATION_EFFECT = "access.delegate"


def _access_problems(doc: PolicyDocument) -> Iterator[Problem]:
    """#6: the rule set's references, then the bootstrap grants against ACC-1 and ACC-2."""
    policy = doc.policy
    assert policy.access is not None
    people = {p.id for p in policy.people}
    problems = [
        doc.problem(("access", *path), f"access: {message}")
        for path, message in access_problems(
            policy.access,
            role_facts(policy),
            people,
            session_roles=[r.id for r in policy.roles if r.activation == "session"],
        )
    ]
    if policy.access.delegation.high == "compliance" and not any(
        p.effect == DELEGATION_EFFECT for p in policy.processes
    ):
        problems.append(
            doc.problem(
                ("access", "delegation", "high"),
                f"access: compliance approves delegations, but no process has effect "
                f"{DELEGATION_EFFECT!r}",
            )
        )
    yield from problems
    if problems or any(True for _ in _role_problems(doc)):
        return  # the rule set cannot be compiled; the problems above say why
    rules = access_rules(policy)
    assert rules is not None
    grants = [(a.person, a.role, a.valid_from, a.valid_to) for a in policy.assignments]
    for index, message in grant_problems(rules, grants):
        yield doc.problem(("assignments", index), f"access: {message}")


def _eligibility_problems(doc: PolicyDocument, units: dict[str, UnitSpec]) -> Iterator[Problem]:
    """#16: a step that nobody in the policy may take leaves its cases waiting forever.

    Everyone's memberships and bootstrap grants count, whatever their dates (a step some
    person can take at some time is not dead); a role or unit the policy does not know is
    reported elsewhere and skipped here. A policy without any bootstrap grants (a rule set
    whose roles are all granted later, through cases) cannot be judged and is not.
    """
    policy = doc.policy
    if not policy.assignments:
        return
    contains = {r.id: r.contains for r in policy.roles}
    grants = {r.id: r.permissions for r in policy.roles}

    def line_of(unit_id: str) -> Line | None:
        seen: set[str] = set()
        current: str | None = unit_id
        while current is not None and current in units and current not in seen:
            seen.add(current)
            if units[current].line is not None:
                return units[current].line
            current = units[current].parent
        return None

    held: dict[str, set[str]] = {}
    for grant in policy.assignments:
        held.setdefault(grant.person, set()).add(grant.role)
    places: dict[str, set[str]] = {}
    for m in policy.memberships:
        places.setdefault(m.person, set()).add(m.unit)
    everyone = [
        ActorFacts(
            person=p.id,
            units=frozenset(places.get(p.id, ())),
            lines=frozenset(line for u in places.get(p.id, ()) if (line := line_of(u)) is not None),
            roles=expand_roles(held.get(p.id, ()), contains),
            permissions=permissions_of(held.get(p.id, ()), contains, grants),
        )
        for p in policy.people
    ]
    for index, process in enumerate(policy.processes):
        for position, step in enumerate(process.steps):
            if not any(who_matches(step.who, facts) for facts in everyone):
                yield doc.problem(
                    ("processes", index, "steps", position, "who"),
                    f"process {process.id!r}: nobody in the policy may act on step "
                    f"{step.id!r} ({step.who.describe()}); its cases would wait forever",
                )


def _find_cycle(start: str, children: dict[str, list[str]]) -> list[str] | None:
    """A cycle through ``start`` as a closed path (``a -> b -> a``), or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for child in children.get(node, []):
            if child == start:
                return [*path, start]
            if child not in seen:
                seen.add(child)
                stack.append((child, [*path, child]))
    return None


def _cycle_problems(doc: PolicyDocument, units: dict[str, UnitSpec]) -> Iterator[Problem]:
    reported: set[str] = set()
    for start in units:
        path = [start]
        while (parent := units[path[-1]].parent) is not None and parent in units:
            if parent in path:
                cycle = path[path.index(parent) :]
                if not reported.intersection(cycle):
                    reported.update(cycle)
                    shown = " -> ".join([*cycle, parent])
                    first = min(cycle, key=lambda u: doc.unit_path(u))
                    yield doc.problem(
                        (*doc.unit_path(first), "parent"), f"cycle in the unit tree: {shown}"
                    )
                break
            path.append(parent)


def to_organisation(policy: Policy) -> Organisation:
    """The organisation a valid policy describes, with inherited lines resolved."""
    specs = {u.id: u for u in policy.units}

    def line_of(unit_id: str) -> Line:
        spec = specs[unit_id]
        while spec.line is None and spec.parent is not None:
            spec = specs[spec.parent]
        return spec.line or Line.MANAGEMENT

    units = {
        u.id: Unit(u.id, u.name, line_of(u.id), u.parent, explicit_line=u.line is not None)
        for u in policy.units
    }
    people = {
        p.id: Person(p.id, p.name, p.competence.to_domain() if p.competence else None)
        for p in policy.people
    }
    memberships = tuple(
        Membership(m.person, m.unit, m.role, m.period, exception_text(m))
        for m in policy.memberships
    )
    responsibilities = tuple(
        Responsibility(r.person, unit, r.period)
        for r in policy.responsibilities
        for unit in r.units
    )
    return Organisation(units, people, memberships, responsibilities)


def summarise(org: Organisation, day: date) -> dict[str, Any]:
    """What ``policy check`` prints on success: units per line, people, the board."""
    per_line = Counter(u.line.value for u in org.units.values())
    board_ids = sorted(
        {m.person for m in org.memberships if m.unit == org.root and m.period.contains(day)}
    )
    return {
        "units": len(org.units),
        "units_per_line": dict(sorted(per_line.items())),
        "people": len(org.people),
        "board": [
            {
                "person": person,
                "name": org.name(person),
                "responsible_for": sorted(
                    r.unit
                    for r in org.responsibilities
                    if r.person == person and r.period.contains(day)
                ),
            }
            for person in board_ids
        ],
    }
