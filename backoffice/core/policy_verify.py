"""A policy proven safe: no single person can complete a process alone (#15 part 4).

The proof is about the product as it runs: the policy *and* the engine. The engine never
lets the maker approve, release or vote on their own case, not directly and not acting for
someone along a delegation chain (``sod.self_approval`` in ``four_eyes`` and the credit
engine; no policy option lifts it, and every step's ``who`` is subject to it). So one
person completes a case alone exactly when some person the policy allows (a role set no
SSD constraint or critical risk refuses, in units the line separations allow) may start it
and some way through it meets no step that asks anyone else: every step either does not
apply (its condition can fail) or applies with a tier of no approvals.

``verify`` is exhaustive over every outcome of every step (each condition taken as able to
hold or fail, independently; each tier as reachable: fail-safe, conditions can only add a
witness, never hide one) and over every role set and unit set a starter may have. A
witness names the starter's role set, and the outcome (skipped, or which tier) of each
step. The schema today already refuses a tier without approvals and a process whose steps
are all conditional, so every valid policy is proven safe; the proof does not lean on the
schema, and a policy change is checked by it too (``newly_unsafe``, ``policy.unsafe``).

Informational (``policy verify --show-roles``): ``verify_roles`` leaves the maker rule
aside and asks whether one person's roles could hold the starter's and every step's
functions (with delegations); where they could, only the maker rule keeps them apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product

from backoffice.core.org import SEPARATIONS, Line
from backoffice.core.policy import Policy, to_organisation
from backoffice.core.processes import ProcessSpec, WhoSpec
from backoffice.core.roles import expand_roles, permissions_of

__all__ = [
    "Who",
    "StepRule",
    "ProcessRule",
    "Model",
    "Witness",
    "Alone",
    "Verdict",
    "model_of",
    "verify",
    "verify_policy",
    "verify_process",
    "newly_unsafe",
    "brute_force",
    "verify_roles",
    "verify_policy_roles",
    "roles_verdict",
    "brute_force_roles",
]


@dataclass(frozen=True)
class Who:
    """Who may act (``WhoSpec``): every list given must match, within a list any entry."""

    lines: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()

    @classmethod
    def of(cls, spec: WhoSpec) -> Who:
        return cls(
            frozenset(str(x) for x in spec.lines),
            frozenset(spec.roles),
            frozenset(spec.units),
            frozenset(spec.permissions),
        )


@dataclass(frozen=True)
class StepRule:
    """A step as the lone person meets it: whether it always applies, whether one approval
    can complete it (a tier with one approval) and with a board member."""

    id: str
    name: str
    who: Who
    required: bool = True
    one_approval: bool = True
    board: bool = False
    exclude_steps: frozenset[str] = frozenset()
    exclude_lines: frozenset[str] = frozenset()
    #: why one person can never take it (a rule the policy states), or ""
    blocked: str = ""
    #: approvals each tier asks of people other than the maker, in order
    approvals: tuple[int, ...] = (1,)
    #: each tier's label or condition, for the witness
    tiers: tuple[str, ...] = ()
    #: the step's own condition (a conditional step may not apply), or ""
    condition: str = ""


@dataclass(frozen=True)
class ProcessRule:
    id: str
    name: str
    starter: Who
    steps: tuple[StepRule, ...]
    #: whether a step may be taken acting for someone (the four-eyes engine; not votes)
    delegable: bool = True
    #: a reason the process always needs a second person that is not a step's (credit)
    blocked: str = ""


@dataclass(frozen=True)
class Model:
    """What the proof needs of a policy, as plain data (and what the tests generate)."""

    #: role -> the roles it contains, itself included (transitively)
    expands: Mapping[str, frozenset[str]]
    #: role -> every permission it grants through the hierarchy
    grants: Mapping[str, frozenset[str]]
    #: (constraint id, roles, n): nobody is authorised for n roles of the set
    ssd: tuple[tuple[str, frozenset[str], int], ...] = ()
    #: (risk id, functions as permission sets): holding one permission of each is refused
    critical: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = ()
    #: unit -> its (inherited) line
    units: Mapping[str, str] = field(default_factory=dict)
    #: units whose members are board members (the root, on the management line)
    board_units: frozenset[str] = frozenset()
    #: pairs of lines nobody belongs to both of
    separations: tuple[tuple[str, str], ...] = ()
    processes: tuple[ProcessRule, ...] = ()


@dataclass(frozen=True)
class Holder:
    """A person the policy allows: assigned roles and units."""

    roles: frozenset[str]
    units: frozenset[str]


@dataclass(frozen=True)
class Move:
    """How the lone person takes one step: directly, or acting for ``principal``."""

    step: str
    name: str
    principal: Holder | None = None


@dataclass(frozen=True)
class Witness:
    person: Holder
    moves: tuple[Move, ...]

    def text(self) -> str:
        roles = ", ".join(sorted(self.person.roles)) or "no role"
        units = ", ".join(sorted(self.person.units))
        who = f"roles {{{roles}}}" + (f" in {units}" if units else "")
        taken = []
        for move in self.moves:
            if move.principal is None:
                taken.append(f"{move.step} directly")
            else:
                theirs = ", ".join(sorted(move.principal.roles)) or "no role"
                where = ", ".join(sorted(move.principal.units))
                taken.append(
                    f"{move.step} acting for a holder of {{{theirs}}}"
                    + (f" in {where}" if where else "")
                )
        return f"one person with {who} starts the case, then takes " + "; ".join(taken)


@dataclass(frozen=True)
class Alone:
    """How one person completes a case alone: who starts it, and for each step the outcome
    of its condition and tier that asks no second person."""

    person: Holder
    #: (step id, outcome), every step of the process in order
    path: tuple[tuple[str, str], ...]

    def text(self) -> str:
        roles = ", ".join(sorted(self.person.roles)) or "no role"
        units = ", ".join(sorted(self.person.units))
        who = f"roles {{{roles}}}" + (f" in {units}" if units else "")
        steps = "; ".join(f"{step}: {outcome}" for step, outcome in self.path)
        return f"one person with {who} starts the case and it completes with nobody else ({steps})"


@dataclass(frozen=True)
class Verdict:
    process: str
    name: str
    witness: Witness | Alone | None
    #: for a safe process: what keeps one person from completing it
    reason: str = ""
    #: how many role sets and unit sets were looked at (exhaustive over what matters)
    looked_at: int = 0

    @property
    def safe(self) -> bool:
        return self.witness is None

    def text(self) -> str:
        if self.witness is None:
            return f"{self.process}: safe – {self.reason}"
        return f"{self.process}: one person can complete it – {self.witness.text()}"


# -- the model of a policy ------------------------------------------------------------------


def model_of(policy: Policy) -> Model:
    """The proof's view of a valid policy."""
    contains = {r.id: list(r.contains) for r in policy.roles}
    direct = {r.id: list(r.permissions) for r in policy.roles}
    expands = {r: expand_roles([r], contains) for r in contains}
    grants = {r: permissions_of([r], contains, direct) for r in contains}
    ssd: list[tuple[str, frozenset[str], int]] = []
    critical: list[tuple[str, tuple[frozenset[str], ...]]] = []
    if policy.access is not None:
        functions = {f.id: frozenset(f.permissions) for f in policy.access.functions}
        ssd = [(s.id, frozenset(s.roles), s.n) for s in policy.access.ssd]
        critical = [
            (r.id, tuple(functions.get(f, frozenset()) for f in r.functions))
            for r in policy.access.risks
            if r.level == "critical"
        ]
    org = to_organisation(policy)
    units = {u.id: str(u.line) for u in org.units.values()}
    board_units = frozenset(
        u.id for u in org.units.values() if u.parent is None and u.line == Line.MANAGEMENT
    )
    separations = tuple((str(s.a), str(s.b)) for s in SEPARATIONS)
    level_roles = frozenset(
        lv.role for lv in (policy.credit.levels if policy.credit else []) if lv.role
    )
    processes = tuple(
        _credit_rule(p, policy, level_roles) if p.engine == "credit" else _four_eyes_rule(p)
        for p in policy.processes
    )
    return Model(
        expands, grants, tuple(ssd), tuple(critical), units, board_units, separations, processes
    )


def _four_eyes_rule(process: ProcessSpec) -> ProcessRule:
    steps = []
    for step in process.steps:
        single = [t for t in step.tiers if t.approvals == 1]
        blocked = ""
        if not single:
            fewest = min(t.approvals for t in step.tiers)
            blocked = f"step '{step.id}' always needs {fewest} approvals and one person counts once"
        steps.append(
            StepRule(
                step.id,
                step.name,
                Who.of(step.who),
                required=step.when is None,
                one_approval=bool(single),
                board=bool(single) and all(t.board >= 1 for t in single),
                exclude_steps=frozenset(step.exclude.steps),
                exclude_lines=frozenset(str(x) for x in step.exclude.lines),
                blocked=blocked,
                approvals=tuple(t.approvals for t in step.tiers),
                tiers=tuple(t.label or f"when {t.when}" for t in step.tiers),
                condition=step.when or "",
            )
        )
    return ProcessRule(process.id, process.name, Who.of(process.starter), tuple(steps))


def _credit_rule(process: ProcessSpec, policy: Policy, level_roles: frozenset[str]) -> ProcessRule:
    """A credit is decided by the market vote, and the back-office vote where it is
    risk-relevant or the policy always asks for it (CR-1, CR-2); a vote counts only at an
    authority level (CR-3), so the voter holds a level's role. The maker's one way round
    the back-office vote is business that is never risk-relevant or below the threshold."""
    by_id = {s.id: s for s in process.steps}
    market = Who.of(by_id["market"].who) if "market" in by_id else Who()
    if not market.roles and level_roles:
        market = Who(market.lines, level_roles, market.units, market.permissions)
    blocked = ""
    credit = policy.credit
    if credit is not None:
        relevance = credit.risk_relevance
        escape = any(
            p.id not in relevance.always
            and (p.id in relevance.never or relevance.threshold.amount > 0)
            for p in credit.products
        )
        if relevance.back_office_vote_always or not escape:
            blocked = (
                "every credit needs the back-office vote besides the market vote, and nobody "
                "votes on both sides (CR-2, ORG-3)"
            )
    step = StepRule("market", by_id["market"].name if "market" in by_id else "market", market)
    return ProcessRule(
        process.id,
        process.name,
        Who.of(process.starter),
        (step,),
        delegable=False,
        blocked=blocked,
    )


# -- the role-level note (the maker rule aside) ---------------------------------------------


@dataclass(frozen=True)
class _Facts:
    roles: frozenset[str]  # authorised roles (hierarchy expanded)
    permissions: frozenset[str]
    lines: frozenset[str]
    units: frozenset[str]
    board: bool


class _Judge:
    """The model's rules for one hypothetical person."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def facts(self, holder: Holder) -> _Facts:
        m = self.model
        roles = frozenset(x for r in holder.roles for x in m.expands.get(r, {r}))
        permissions = frozenset(p for r in holder.roles for p in m.grants.get(r, ()))
        lines = frozenset(m.units[u] for u in holder.units)
        board = bool(holder.units & m.board_units)
        return _Facts(roles, permissions, lines, holder.units, board)

    def roles_allowed(self, roles: Iterable[str]) -> bool:
        m = self.model
        authorised = {x for r in roles for x in m.expands.get(r, {r})}
        if any(len(authorised & members) >= n for _, members, n in m.ssd):
            return False
        return not self.critical(frozenset(p for r in roles for p in m.grants.get(r, ())))

    def units_allowed(self, units: Iterable[str]) -> bool:
        lines = {self.model.units[u] for u in units}
        return not any(a in lines and b in lines for a, b in self.model.separations)

    def critical(self, permissions: frozenset[str]) -> bool:
        return any(
            all(function & permissions for function in functions)
            for _, functions in self.model.critical
        )

    @staticmethod
    def qualifies(who: Who, f: _Facts) -> bool:
        return (
            (not who.lines or bool(f.lines & who.lines))
            and (not who.roles or bool(f.roles & who.roles))
            and (not who.units or bool(f.units & who.units))
            and (not who.permissions or bool(f.permissions & who.permissions))
        )

    def exercised(self, who: Who, principal: _Facts) -> frozenset[str]:
        """``delegation.exercised_permissions``: what acting for ``principal`` adds."""
        used = set(principal.permissions & who.permissions)
        for role in principal.roles & who.roles:
            used |= self.model.grants.get(role, frozenset())
        return frozenset(used)

    def may_take(self, step: StepRule, f: _Facts) -> bool:
        """Whether a person (or a principal on the chain) passes the step's own rules."""
        return (
            self.qualifies(step.who, f)
            and not (f.lines & step.exclude_lines)
            and (not step.board or f.board)
        )


def _relevant_roles(model: Model, whos: Iterable[Who]) -> list[str]:
    """Roles that can make a person qualify somewhere: they grant a named permission or
    are (or contain) a named role. Every other role only adds SSD breaches and risks."""
    named_roles: set[str] = set()
    named_permissions: set[str] = set()
    for who in whos:
        named_roles |= who.roles
        named_permissions |= who.permissions
    return sorted(
        r
        for r in model.expands
        if model.expands[r] & named_roles or model.grants.get(r, frozenset()) & named_permissions
    )


def _relevant_units(model: Model, whos: Iterable[Who], board: bool) -> list[str]:
    """The units named, one unit per named line (any unit of a line serves as well as
    another), and a board unit where a step needs a board member."""
    whos = list(whos)
    chosen = {u for who in whos for u in who.units if u in model.units}
    lines = {line for who in whos for line in who.lines}
    for line in sorted(lines):
        if not any(model.units[u] == line for u in chosen):
            first = next((u for u in sorted(model.units) if model.units[u] == line), None)
            if first is not None:
                chosen.add(first)
    if board and not chosen & model.board_units and model.board_units:
        chosen.add(min(model.board_units))
    return sorted(chosen)


def _subsets(items: Sequence[str], largest: int | None = None) -> Iterator[frozenset[str]]:
    """Every subset of ``items``, smallest first, of at most ``largest`` members."""
    top = len(items) if largest is None else min(largest, len(items))
    for size in range(top + 1):
        for combo in combinations(items, size):
            yield frozenset(combo)


def _holders(
    judge: _Judge, roles: Sequence[str], units: Sequence[str], slots: int
) -> Iterator[Holder]:
    """Every allowed person over ``roles`` and ``units``, smallest first, with at most
    ``slots`` roles and units: one for each thing a who asks (a role, a permission, a
    line, a unit, a board seat). A larger witness has a smaller one inside it, since
    qualifying only needs one role or unit per slot and every rule that can refuse a
    person (SSD, a critical risk, separated or excluded lines) refuses supersets too. A
    role set that breaks a constraint is skipped with every superset of it."""
    unit_sets = [u for u in _subsets(units, slots) if judge.units_allowed(u)]
    bad: list[frozenset[str]] = []
    for r in _subsets(roles, slots):
        if any(b <= r for b in bad):
            continue
        if not judge.roles_allowed(r):
            bad.append(r)
            continue
        for u in unit_sets:
            yield Holder(r, u)


def _slots(whos: Iterable[Who], board: bool) -> int:
    return sum(
        bool(w.roles) + bool(w.permissions) + bool(w.lines) + bool(w.units) for w in whos
    ) + int(board)


def _safe_by_rules(process: ProcessRule) -> str:
    """A reason that needs no search: a rule the policy states that asks for two people."""
    if process.blocked:
        return process.blocked
    required = [s for s in process.steps if s.required]
    for step in required:
        if step.blocked:
            return step.blocked
    ids = {s.id for s in required}
    for step in required:
        both = step.exclude_steps & ids
        if both:
            earlier = sorted(both)[0]
            return f"step '{step.id}' excludes whoever took step '{earlier}', and both always apply"
    return ""


def roles_verdict(model: Model, process: ProcessRule) -> Verdict:
    """Whether one person's roles could cover the starter and every step, leaving the
    maker rule aside (``--show-roles``): a witness, or why none exists."""
    if reason := _safe_by_rules(process):
        return Verdict(process.id, process.name, None, reason)
    judge = _Judge(model)
    steps = [s for s in process.steps if s.required]
    whos = [process.starter, *(s.who for s in steps)]
    board = any(s.board for s in steps)
    roles = _relevant_roles(model, whos)
    units = _relevant_units(model, whos, board)
    # the principals one could act for, per step (their own allowed holders)
    principals: dict[str, list[tuple[Holder, _Facts, frozenset[str]]]] = {}
    if process.delegable:
        for step in steps:
            step_roles = _relevant_roles(model, [step.who])
            step_units = _relevant_units(model, [step.who], step.board)
            found = []
            seen: set[tuple[frozenset[str], frozenset[str], bool]] = set()
            slots = _slots([step.who], step.board)
            for holder in _holders(judge, step_roles, step_units, slots):
                f = judge.facts(holder)
                if not judge.may_take(step, f):
                    continue
                used = judge.exercised(step.who, f)
                key = (used, f.lines, f.board)
                if key in seen:  # a principal like an earlier one adds nothing new
                    continue
                seen.add(key)
                found.append((holder, f, used))
            principals[step.id] = found
    looked_at = 0
    # a witness that needs nobody else's authority reads best: look for one first
    for delegating in (False, True) if principals else (False,):
        looked_at = 0  # the last pass looks at every combination the first one did
        for person in _holders(judge, roles, units, _slots(whos, board)):
            looked_at += 1
            moves = _moves(judge, process.starter, steps, person, principals, delegating)
            if moves is not None:
                witness = Witness(person, moves)
                return Verdict(process.id, process.name, witness, looked_at=looked_at)
    reason = (
        f"none of the {looked_at} role and unit combinations the policy allows can start "
        "it and take every step (SSD, critical risks, separated lines"
        + (", delegation" if process.delegable else "")
        + ")"
    )
    return Verdict(process.id, process.name, None, reason, looked_at)


def _moves(
    judge: _Judge,
    starter: Who,
    steps: Sequence[StepRule],
    person: Holder,
    principals: Mapping[str, Sequence[tuple[Holder, _Facts, frozenset[str]]]],
    delegating: bool,
) -> tuple[Move, ...] | None:
    """How ``person`` starts a case and takes every step, or None if they cannot."""
    f = judge.facts(person)
    if not judge.qualifies(starter, f):
        return None
    moves = []
    for step in steps:
        if judge.may_take(step, f):
            moves.append(Move(step.id, step.name))
            continue
        if not delegating or f.lines & step.exclude_lines or (step.board and not f.board):
            return None  # acting for someone: every person on the chain is judged
        acting = next(
            (
                holder
                for holder, _, used in principals.get(step.id, [])
                if not judge.critical(f.permissions | used)
            ),
            None,
        )
        if acting is None:
            return None
        moves.append(Move(step.id, step.name, acting))
    return tuple(moves)


def verify_roles(model: Model) -> list[Verdict]:
    return [roles_verdict(model, p) for p in model.processes]


def verify_policy_roles(policy: Policy) -> list[Verdict]:
    """Each process of a valid policy: could one person's roles hold every function it
    needs (the maker rule aside)? Informational (``policy verify --show-roles``)."""
    return verify_roles(model_of(policy))


# -- the proof, with the engine's maker rule ------------------------------------------------


def _outcomes(step: StepRule) -> list[tuple[str, int]]:
    """Every outcome a case can meet at ``step``, with the approvals it asks of others: not
    applying (a conditional step), or each tier. Conditions are taken as independent and
    each satisfiable: fail-safe, they can only add a witness, never hide one."""
    found = [(f"skipped (condition '{step.condition}' false)", 0)] if not step.required else []
    labels = step.tiers or tuple(f"tier {i + 1}" for i in range(len(step.approvals)))
    found += [
        (f"tier '{label}', {n} approval(s)", n)
        for label, n in zip(labels, step.approvals, strict=False)
    ]
    return found


def _starters(model: Model, process: ProcessRule) -> Iterator[Holder]:
    """Every person the policy allows who may start ``process`` (smallest first)."""
    judge = _Judge(model)
    whos = [process.starter]
    for holder in _holders(
        judge,
        _relevant_roles(model, whos),
        _relevant_units(model, whos, False),
        _slots(whos, False),
    ):
        if judge.qualifies(process.starter, judge.facts(holder)):
            yield holder


def verify_process(model: Model, process: ProcessRule) -> Verdict:
    """Whether someone the policy allows can start a case of ``process`` and see it reach
    its final state with no step asking a second person. The engine never lets the maker
    approve, release or vote on their own case, not even acting for someone
    (``sod.self_approval``; no policy option lifts it), so a step that applies and asks for
    one approval or more always needs a second person."""
    open_path: list[tuple[str, str]] = []
    for step in process.steps:
        alone = next((o for o, n in _outcomes(step) if n == 0), None)
        if alone is None and not process.delegable:  # the credit engine: votes
            reason = (
                "every credit needs the market vote at least (CR-1), and the maker never "
                "votes on their own case (sod.self_approval)"
            )
            if process.blocked:
                reason += "; " + process.blocked
            return Verdict(process.id, process.name, None, reason)
        if alone is None:
            fewest = min(step.approvals, default=1)
            how = "always applies" if step.required else "applies whatever its condition"
            return Verdict(
                process.id,
                process.name,
                None,
                f"step '{step.id}' {how} and needs at least {fewest} approval(s) in every "
                "tier; the maker never checks their own case, also not acting for someone "
                "(sod.self_approval), so a second person must",
            )
        open_path.append((step.id, alone))
    starters = _starters(model, process)
    person = next(starters, None)
    if person is None:
        return Verdict(
            process.id, process.name, None, "nobody the policy allows may start it (SSD, risks)"
        )
    return Verdict(process.id, process.name, Alone(person, tuple(open_path)))


def verify(model: Model) -> list[Verdict]:
    return [verify_process(model, p) for p in model.processes]


def verify_policy(policy: Policy) -> list[Verdict]:
    """Each process of a valid policy, with a witness where one person can complete it
    alone as the product runs (the policy and the engine's maker rule)."""
    return verify(model_of(policy))


def newly_unsafe(live: Policy, proposed: Policy) -> list[Verdict]:
    """Processes of the proposed policy one person can complete alone, unless the live
    policy already has that process (same id) unsafe: what a policy change may not do. A
    new process counts too, so renaming a process does not get round the check."""
    before = {v.process: v.safe for v in verify_policy(live)}
    return [v for v in verify_policy(proposed) if not v.safe and before.get(v.process, True)]


def brute_force(model: Model, process: ProcessRule) -> bool:
    """The reference for ``verify_process``: every path through every outcome of every
    step, and every role set and unit set for the maker. For tests on small models."""
    judge = _Judge(model)
    paths = product(*(_outcomes(step) for step in process.steps))
    if not any(all(n == 0 for _, n in path) for path in paths):
        return False
    return any(
        judge.qualifies(process.starter, judge.facts(Holder(r, u)))
        for r in _subsets(sorted(model.expands))
        for u in _subsets(sorted(model.units))
        if judge.roles_allowed(r) and judge.units_allowed(u)
    )


# -- the role-level reference: every role set and unit set, nothing clever ------------------


def brute_force_roles(model: Model, process: ProcessRule) -> bool:
    """Whether one person's roles cover ``process`` (the maker rule aside), by trying every
    role set and unit set for the person and for every principal. Exponential: for tests."""
    judge = _Judge(model)
    if process.blocked:
        return False
    steps = [s for s in process.steps if s.required]
    ids = {s.id for s in steps}
    if any(s.blocked for s in steps) or any(s.exclude_steps & ids for s in steps):
        return False
    everyone = [
        Holder(r, u)
        for r in _subsets(sorted(model.expands))
        for u in _subsets(sorted(model.units))
        if judge.roles_allowed(r) and judge.units_allowed(u)
    ]
    for person in everyone:
        f = judge.facts(person)
        if not judge.qualifies(process.starter, f):
            continue

        def takes(step: StepRule, f: _Facts = f) -> bool:
            if judge.may_take(step, f):
                return True
            if not process.delegable or f.lines & step.exclude_lines:
                return False
            if step.board and not f.board:
                return False
            for principal in everyone:
                g = judge.facts(principal)
                if judge.may_take(step, g) and not judge.critical(
                    f.permissions | judge.exercised(step.who, g)
                ):
                    return True
            return False

        if all(takes(s) for s in steps):
            return True
    return False
