"""The four-eyes engine: ``decide`` is the only place where a case's rules are evaluated.

A case is the fold of its events (``replay``). ``decide`` takes the case, a command, the
actor's facts and the context (today, delegations, other people's facts) and returns
either ``Accepted(events)`` or ``Denied(code, message)``. Nothing here touches a database.

Rules, with their sources:
- the maker never approves, rejects or releases their own case (four-eyes principle;
  MaRisk AT 4.3.1; RULES OBJ-SOD) — also not as a substitute, nor through a substitute;
- N distinct approvals per step, by amount tiers, some from board members;
- a step's ``exclude``: actors of earlier steps, excluded lines, beneficiaries (DSD);
- ``authority``: the actor's competence limit covers the amount (Kompetenzordnung);
  delegation never raises a limit (the lowest limit along the chain counts);
- acting for someone adds the step's function to the substitute's own: a critical or
  high access risk combination is refused (#13, ``core.delegation``);
- every approval is bound to the payload hash it saw and to the round it was given in
  (a round opens with each submission; a return ends it): amending voids it, and so does
  a return — also when the payload is later changed back (#13);
- ``aggregate``: the tier is picked by the case's amount summed with related cases (same
  ``by`` value and currency, submitted within the window), recorded with the submission
  so replay stays pure; it only ever adds eyes (#13);
- ``exclude.maintained`` (#16, COOL-1 on an object): whoever recently maintained the object
  the case names (a vendor's master data) may not act on the step (pay that vendor);
- ``tolerances`` (#16): fields compared within tolerances become true/false variables of
  the conditions (three-way match); a missing value is a mismatch (fail-safe);
- ``starter_excludes`` naming a unit field: members of that unit may not start the case
  (#16: nobody counts the stock they are responsible for);
- a condition that cannot be evaluated never lowers the number of eyes (fail-safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from backoffice.core.actors import ActorFacts
from backoffice.core.delegation import ActingRules, acting_risks, exercised_permissions, same_person
from backoffice.core.errors import N_, Denied
from backoffice.core.expressions import ExpressionError, evaluate
from backoffice.core.money import Money
from backoffice.core.org import Period
from backoffice.core.payload import (
    FieldType,
    Known,
    expression_variables,
    money_of,
    payload_hash,
    validated_payload,
)
from backoffice.core.processes import ProcessSpec, StepAction, StepSpec, TierSpec, WhoSpec
from backoffice.core.tolerance import tolerance_variables

__all__ = [
    "Status",
    "CommandKind",
    "Command",
    "Event",
    "Case",
    "Aggregate",
    "aggregate_key",
    "Delegation",
    "Context",
    "Accepted",
    "decide",
    "replay",
    "who_matches",
    "resolve_chain",
    "DENIAL_CODES",
]


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RELEASED = "released"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (Status.RELEASED, Status.REJECTED, Status.WITHDRAWN)


class CommandKind(StrEnum):
    START = "start"
    SUBMIT = "submit"
    AMEND = "amend"
    APPROVE = "approve"
    RELEASE = "release"
    REJECT = "reject"
    RETURN = "return"
    WITHDRAW = "withdraw"
    COMMENT = "comment"


#: Every denial code ``decide`` can return, with what it means.
DENIAL_CODES: dict[str, str] = {
    "case.wrong_state": N_("the command does not apply in the case's current state"),
    "case.not_maker": N_("only the maker may do this"),
    "process.not_startable": N_("the actor may not start this process"),
    "payload.invalid": N_("the payload does not match the process's schema"),
    "payload.changed": N_("the payload changed since the actor looked at it"),
    "step.not_eligible": N_("the actor does not belong to those who may act on this step"),
    "step.wrong_action": N_("this step is completed by another command"),
    "sod.self_approval": N_("the maker may not check their own case"),
    "sod.already_approved": N_("one person counts once per step"),
    "sod.prior_step_actor": N_("the actor already acted on an earlier step this step excludes"),
    "sod.line_excluded": N_("the actor's line may not act on this step"),
    "sod.beneficiary": N_("a person may not act on a case in their own favour"),
    "sod.cooling_off": N_(
        "the actor recently maintained the object the case names and may not act on it yet"
    ),
    "sod.responsible": N_("the actor is responsible for what the case checks"),
    "process.maintainers_unknown": N_(
        "who recently maintained the object the case names was not gathered"
    ),
    "authority.limit_exceeded": N_("the amount exceeds the actor's competence limit"),
    "authority.board_required": N_("the remaining approvals must come from board members"),
    "delegation.invalid": N_("no active delegation lets the actor act for that person"),
    "delegation.access_risk": N_(
        "acting for that person would give the actor a critical or high access risk"
    ),
    "comment.required": N_("a reason is needed"),
    "actor.inactive": N_("the actor's account is not active"),
    "process.aggregate_unknown": N_(
        "the sum over related cases the process asks for was not gathered"
    ),
}


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    comment: str = ""
    payload: Mapping[str, Any] | None = None
    on_behalf_of: str | None = None
    #: the payload version the actor looked at; approving something else is refused
    seen_payload_hash: str | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened to a case (past tense), as stored in its history."""

    kind: str
    actor: str
    on_behalf_of: str | None = None
    step: str | None = None
    payload_hash: str | None = None
    payload: Mapping[str, Any] | None = None
    comment: str = ""
    board: bool = False
    tier: str = ""
    #: details another engine keeps with an event (a credit vote's side, decision, level);
    #: the four-eyes engine keeps only a submission's ``aggregate`` there (#13)
    data: Mapping[str, Any] = field(default_factory=dict)


def aggregate_key(value: Any) -> str:
    """The ``by`` value as cases are grouped by it: text compares ignoring case and spacing,
    so "ACME  GmbH" and "acme gmbh" are one creditor (more matches: more eyes, never fewer)."""
    return " ".join(str(value).casefold().split())


@dataclass(frozen=True)
class Aggregate:
    """#13: the related cases a submission was summed with, as the cases services found
    them under a lock: same process, same ``by`` value, same currency, submitted within
    ``window`` and neither draft, rejected nor withdrawn. Kept with the ``submitted`` event,
    so the tier stays a pure function of the case's history."""

    by: str
    value: Any
    window: str
    currency: str
    #: (case id, amount) of each related case
    others: tuple[tuple[int, Decimal], ...] = ()

    @property
    def amount(self) -> Money:
        """The related cases' sum, without the case itself."""
        return Money(sum((a for _, a in self.others), Decimal(0)), self.currency)

    def to_data(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "value": self.value,
            "window": self.window,
            "currency": self.currency,
            "others": [{"case": case, "amount": f"{amount:.2f}"} for case, amount in self.others],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Aggregate:
        return cls(
            by=data["by"],
            value=data["value"],
            window=data["window"],
            currency=data["currency"],
            others=tuple((int(o["case"]), Decimal(o["amount"])) for o in data["others"]),
        )


@dataclass(frozen=True)
class Case:
    """The state of a case, derived from its events by ``replay``."""

    process: ProcessSpec
    maker: str
    status: Status
    payload: Mapping[str, Any]
    payload_hash: str
    events: tuple[Event, ...]
    step: str | None = None
    #: #13: what the last submission was summed with (processes with an ``aggregate``)
    aggregate: Aggregate | None = None

    @property
    def round_start(self) -> int:
        """The index of the event that opened the current round of checking: the last
        submission. After a return (or before any submission) no round is open."""
        for index in range(len(self.events) - 1, -1, -1):
            kind = self.events[index].kind
            if kind == "submitted":
                return index
            if kind == "returned":
                break
        return len(self.events)

    def counts(self, index: int) -> bool:
        """Whether the event at ``index`` is an approval that still counts: given in the
        current round, for the current payload. #13: an approval of payload A given before
        a return does not come back when the maker changes the case to B and back to A."""
        event = self.events[index]
        return (
            event.kind == "approved"
            and index > self.round_start
            and event.payload_hash == self.payload_hash
        )

    def approvals(self, step_id: str) -> list[Event]:
        """Approvals on ``step_id`` that still count (``counts``)."""
        start = self.round_start
        return [
            e
            for e in self.events[start + 1 :]
            if e.kind == "approved" and e.step == step_id and e.payload_hash == self.payload_hash
        ]

    def acted_on(self, step_id: str) -> set[str]:
        """Everyone who ever approved on ``step_id``, also for an earlier payload version."""
        people: set[str] = set()
        for e in self.events:
            if e.kind == "approved" and e.step == step_id:
                people.add(e.actor)
                if e.on_behalf_of:
                    people.add(e.on_behalf_of)
        return people

    @property
    def current_step(self) -> StepSpec | None:
        return self.process.step(self.step) if self.step else None

    @property
    def aggregate_total(self) -> Money | None:
        """#13: the case's amount plus the related cases' — None without related cases."""
        aggregate, name = self.aggregate, self.process.amount
        own = money_of(self.payload.get(name)) if name else None
        if aggregate is None or not aggregate.others or own is None:
            return None
        if own.currency != aggregate.currency:
            return None
        return Money(own.amount + aggregate.amount.amount, own.currency)

    def _variable_sets(self) -> list[dict[str, Any]]:
        """What conditions see: the payload, and with an aggregate also the payload whose
        amount is the sum (listed first, so it names the tier when both are as strict)."""
        own = expression_variables(self.process.payload, self.payload)
        if self.process.tolerances:
            own |= tolerance_variables(self.process.tolerances, self.process.payload, self.payload)
        total = self.aggregate_total
        if total is None or self.process.amount is None:
            return [own]
        return [own | {self.process.amount: float(total.amount)}, own]

    def tier(self, step: StepSpec) -> TierSpec:
        """The first tier whose condition holds. Fail-safe: if a condition cannot be
        evaluated (a missing amount, say), the strictest tier applies — never fewer eyes.
        With an aggregate, the stricter of the tiers for the sum and for the case alone."""

        def strictness(tier: TierSpec) -> tuple[int, int]:
            return (tier.approvals, tier.board)

        def holds(tier: TierSpec, variables: Mapping[str, Any]) -> bool:
            if tier.banded:  # #16: an amount band; no amount means no band (fail-safe)
                amount = variables.get(self.process.amount) if self.process.amount else None
                if amount is None:
                    raise ExpressionError("an amount band needs an amount")
                if not tier.in_band(amount):
                    return False
            return bool(evaluate(tier.when, variables))

        chosen = []
        for variables in self._variable_sets():
            try:
                chosen.append(next(t for t in step.tiers if holds(t, variables)))
            except ExpressionError:
                chosen.append(max(step.tiers, key=strictness))
        return max(chosen, key=strictness)

    def applies(self, step: StepSpec) -> bool:
        """Whether a conditional step applies; one whose condition fails applies (fail-safe),
        and so does one that applies to the case alone or to its aggregate."""
        if step.when is None:
            return True
        for variables in self._variable_sets():
            try:
                if evaluate(step.when, variables):
                    return True
            except ExpressionError:
                return True
        return False

    def is_complete(self, step: StepSpec) -> bool:
        tier = self.tier(step)
        approvals = self.approvals(step.id)
        return len(approvals) >= tier.approvals and sum(a.board for a in approvals) >= tier.board

    def next_open_step(self) -> StepSpec | None:
        """The first applicable step that still lacks approvals, or None when all are done."""
        return next(
            (s for s in self.process.steps if self.applies(s) and not self.is_complete(s)), None
        )


@dataclass(frozen=True)
class Delegation:
    """``principal`` names ``substitute`` to act in their place during ``period``.

    ``approved_risks``: high access risks compliance approved for this delegation (#13).
    """

    principal: str
    substitute: str
    period: Period
    approved_risks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Context:
    today: date
    known: Known = field(default_factory=Known)
    delegations: tuple[Delegation, ...] = ()
    #: facts of other people the command involves (delegation principals)
    people: Mapping[str, ActorFacts] = field(default_factory=dict)
    #: the access rules for acting on someone's behalf (#13); None: the policy has none
    acting: ActingRules | None = None
    #: #13: a submission's related cases, gathered under a lock (processes with ``aggregate``)
    aggregate: Aggregate | None = None
    #: #16: who recently maintained the object a step's ``exclude.maintained`` names, by
    #: ``CoolingOffSpec.key``; a rule whose key is missing refuses (fail-safe)
    maintainers: Mapping[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    #: #19: the policy's names for roles, units and permissions (``WhoSpec.describe``)
    words: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    events: tuple[Event, ...]
    case: Case


def replay(process: ProcessSpec, events: tuple[Event, ...] | list[Event]) -> Case:
    """The case that ``events`` describe; the first event must be ``started``."""
    first = events[0]
    assert first.kind == "started" and first.payload is not None
    case = Case(
        process=process,
        maker=first.actor,
        status=Status.DRAFT,
        payload=first.payload,
        payload_hash=first.payload_hash or payload_hash(first.payload),
        events=(first,),
    )
    for event in events[1:]:
        case = _apply(case, event)
    return case


def _apply(case: Case, event: Event) -> Case:
    case = replace(case, events=(*case.events, event))
    match event.kind:
        case "submitted":
            found = event.data.get("aggregate")
            case = replace(case, aggregate=Aggregate.from_data(found) if found else None)
            return replace(case, status=Status.SUBMITTED, step=_open_step_id(case))
        case "amended":
            assert event.payload is not None
            return replace(
                case, payload=event.payload, payload_hash=event.payload_hash or "", aggregate=None
            )
        case "approved":
            return replace(case, step=_open_step_id(case))
        case "released":
            return replace(case, status=Status.RELEASED, step=None)
        case "rejected":
            return replace(case, status=Status.REJECTED, step=None)
        case "returned":
            return replace(case, status=Status.RETURNED, step=None)
        case "withdrawn":
            return replace(case, status=Status.WITHDRAWN, step=None)
        case _:
            return case


def _open_step_id(case: Case) -> str | None:
    step = case.next_open_step()
    return step.id if step else None


def who_matches(who: WhoSpec, facts: ActorFacts) -> bool:
    """Every list given must match (AND); within a list, any entry (OR)."""
    return (
        (not who.lines or bool(facts.lines.intersection(who.lines)))
        and (not who.roles or bool(facts.roles.intersection(who.roles)))
        and (not who.units or bool(facts.units.intersection(who.units)))
        and (not who.permissions or bool(facts.permissions.intersection(who.permissions)))
    )


def resolve_chain(principal: str, actor: str, context: Context) -> list[str] | None:
    """The delegation path ``principal -> … -> actor`` active today, or None.

    Chains are followed breadth-first; a person already on the path is never visited
    again, so delegation loops end instead of running forever.
    """
    active = [d for d in context.delegations if d.period.contains(context.today)]
    paths = [[principal]]
    visited = {principal}
    while paths:
        path = paths.pop(0)
        for d in active:
            if d.principal != path[-1] or d.substitute in visited:
                continue
            if d.substitute == actor:
                return [*path, actor]
            visited.add(d.substitute)
            paths.append([*path, d.substitute])
    return None


def decide(
    case: Case | None,
    command: Command,
    actor: ActorFacts,
    context: Context,
    process: ProcessSpec | None = None,
) -> Accepted | Denied:
    """Accept a command with the events it causes, or deny it with a stable code."""
    if not actor.active:
        return Denied("actor.inactive", f"{actor.name or actor.person}'s account is not active.")
    if command.kind == CommandKind.START:
        assert process is not None
        return _start(process, command, actor, context)
    assert case is not None
    handler = _HANDLERS.get(command.kind)
    if handler is None:  # a command of another engine (a credit vote on a payment, say)
        return _wrong_state(case, command)
    return handler(case, command, actor, context)


def _accept(case: Case, *events: Event) -> Accepted:
    for event in events:
        case = _apply(case, event)
    return Accepted(tuple(events), case)


def _start(
    process: ProcessSpec, command: Command, actor: ActorFacts, context: Context
) -> Accepted | Denied:
    if not who_matches(process.starter, actor):
        return Denied(
            "process.not_startable",
            f"{process.name} can be started only by {process.starter.describe(context.words)}.",
        )
    values, invalid = validated_payload(process.payload, command.payload, context.known)
    if invalid:
        return invalid
    if denied := _starter_is_beneficiary(process, values, actor):
        return denied
    event = Event(
        "started",
        actor.person,
        payload=values,
        payload_hash=payload_hash(values),
        comment=command.comment,
    )
    return Accepted((event,), replay(process, (event,)))


def _starter_is_beneficiary(
    process: ProcessSpec, values: Mapping[str, Any], actor: ActorFacts
) -> Denied | None:
    person = actor.person
    for name in process.starter_excludes:
        spec = process.field(name)
        if spec is not None and spec.type == FieldType.UNIT:
            if values.get(name) in actor.units:
                return Denied(
                    "sod.responsible",
                    f"You belong to the {spec.title.lower()} named; someone from elsewhere "
                    "must do this.",
                )
            continue
        if values.get(name) == person:
            label = process.field(name).title if process.field(name) else name  # type: ignore[union-attr]
            return Denied(
                "sod.beneficiary", f"You are named as {label}; someone else must request this."
            )
    for name in process.starter_is:
        if not isinstance(values.get(name), str) or not same_person(values[name], person):
            label = process.field(name).title if process.field(name) else name  # type: ignore[union-attr]
            return Denied("process.not_startable", f"Only the {label.lower()} may start this case.")
    return None


def _require_maker(case: Case, actor: ActorFacts, what: str) -> Denied | None:
    if actor.person != case.maker:
        return Denied("case.not_maker", f"Only the maker ({case.maker}) may {what} this case.")
    return None


def _wrong_state(case: Case, command: Command) -> Denied:
    return Denied(
        "case.wrong_state",
        f"A case that is {case.status.value} cannot be given '{command.kind.value}'.",
    )


def _submit(case: Case, command: Command, actor: ActorFacts, context: Context) -> Accepted | Denied:
    if case.status not in (Status.DRAFT, Status.RETURNED):
        return _wrong_state(case, command)
    if denied := _require_maker(case, actor, "submit"):
        return denied
    data: dict[str, Any] = {}
    if case.process.aggregate is not None:
        if context.aggregate is None:
            return Denied(
                "process.aggregate_unknown",
                f"{case.process.name} sums related cases to pick its tier; that sum is missing.",
            )
        data["aggregate"] = context.aggregate.to_data()
    return _accept(
        case,
        Event(
            "submitted",
            actor.person,
            payload_hash=case.payload_hash,
            comment=command.comment,
            data=data,
        ),
    )


def _amend(case: Case, command: Command, actor: ActorFacts, context: Context) -> Accepted | Denied:
    if case.status not in (Status.DRAFT, Status.RETURNED):
        return Denied(
            "case.wrong_state",
            f"A {case.status.value} case cannot be changed; "
            "it must be returned for correction first.",
        )
    if denied := _require_maker(case, actor, "amend"):
        return denied
    values, invalid = validated_payload(case.process.payload, command.payload, context.known)
    if invalid:
        return invalid
    if denied := _starter_is_beneficiary(case.process, values, actor):
        return denied
    event = Event(
        "amended",
        actor.person,
        payload=values,
        payload_hash=payload_hash(values),
        comment=command.comment,
    )
    return _accept(case, event)


def _withdraw(
    case: Case, command: Command, actor: ActorFacts, context: Context
) -> Accepted | Denied:
    if case.status.is_final:
        return _wrong_state(case, command)
    if denied := _require_maker(case, actor, "withdraw"):
        return denied
    return _accept(case, Event("withdrawn", actor.person, comment=command.comment))


def _comment(
    case: Case, command: Command, actor: ActorFacts, context: Context
) -> Accepted | Denied:
    if not command.comment.strip():
        return Denied("comment.required", "A comment cannot be empty.")
    return _accept(case, Event("commented", actor.person, comment=command.comment.strip()))


@dataclass(frozen=True)
class _Acting:
    """Who acts: the actor, possibly in place of a principal along a delegation chain."""

    chain: list[str]  # principal first, actor last (just [actor] without delegation)
    facts: list[ActorFacts]  # facts of each person on the chain

    @property
    def principal(self) -> ActorFacts:
        return self.facts[0]

    @property
    def on_behalf_of(self) -> str | None:
        return self.chain[0] if len(self.chain) > 1 else None

    def short_of(self, amount: Money) -> ActorFacts | None:
        """The first person on the chain whose limit does not cover ``amount``, if any.

        Every limit along the chain must cover it: delegation never raises a limit.
        """
        return next(
            (f for f in self.facts if f.competence is None or not f.competence.covers(amount)),
            None,
        )

    @property
    def board(self) -> bool:
        return all(f.board_member for f in self.facts)


def _acting(command: Command, actor: ActorFacts, context: Context) -> _Acting | Denied:
    if command.on_behalf_of is None or same_person(command.on_behalf_of, actor.person):
        return _Acting([actor.person], [actor])
    chain = resolve_chain(command.on_behalf_of, actor.person, context)
    if chain is None:
        return Denied(
            "delegation.invalid",
            f"No delegation active today lets {actor.person} act for {command.on_behalf_of}.",
        )
    facts = [context.people.get(p) for p in chain[:-1]]
    if any(f is None for f in facts):
        return Denied("delegation.invalid", "A person on the delegation chain is unknown.")
    return _Acting(chain, [*facts, actor])  # type: ignore[list-item]


def _acting_risk(step: StepSpec, acting: _Acting, context: Context) -> Denied | None:
    """#13: acting for someone adds the function of the act to one's own. The step's
    permissions the principal holds, with the actor's own, may not make a critical or high
    risk — unless mitigated for the actor, or (high) approved for every delegation on the
    chain. Judged at the act, so old delegations and later role changes are caught."""
    if acting.on_behalf_of is None or context.acting is None:
        return None
    principal, actor = acting.principal, acting.facts[-1]
    exercised = exercised_permissions(
        step.who, principal.permissions, principal.roles, context.acting.role_permissions
    )
    if not exercised:
        return None
    links = list(zip(acting.chain, acting.chain[1:], strict=False))
    approved = [
        set().union(
            *(
                d.approved_risks
                for d in context.delegations
                if (d.principal, d.substitute) == link and d.period.contains(context.today)
            )
        )
        for link in links
    ]
    allowed = context.acting.mitigated | set.intersection(*approved)
    risks = acting_risks(context.acting.rules, actor.permissions, exercised, allowed)
    if not risks:
        return None
    named = ", ".join(f"{r.risk} ({r.level})" for r in risks)
    return Denied(
        "delegation.access_risk",
        f"Acting for {principal.person} on step '{step.name}' would add "
        f"{', '.join(sorted(exercised))} to your own functions: {named}. Someone else must "
        "act on it.",
    )


def _check_step(
    case: Case, command: Command, actor: ActorFacts, context: Context
) -> tuple[StepSpec, _Acting] | Denied:
    """The checks every checker command shares: state, eligibility, SoD (in that order)."""
    step = case.current_step
    if case.status != Status.SUBMITTED or step is None:
        return _wrong_state(case, command)
    acting = _acting(command, actor, context)
    if isinstance(acting, Denied):
        return acting
    if not who_matches(step.who, acting.principal):
        whom = f"{acting.principal.person} (for whom you act)" if acting.on_behalf_of else "you"
        return Denied(
            "step.not_eligible",
            f"Step '{step.name}' is for {step.who.describe(context.words)}; {whom} do not qualify.",
        )
    if denied := _acting_risk(step, acting, context):
        return denied
    already = {a.actor for a in case.approvals(step.id)} | {
        a.on_behalf_of for a in case.approvals(step.id) if a.on_behalf_of
    }
    for person, facts in zip(acting.chain, acting.facts, strict=True):
        if person == case.maker:
            how = "" if person == actor.person else f" (you act for {person}, the maker)"
            return Denied(
                "sod.self_approval",
                f"The maker of a case may not check it{how}; four eyes means a second person.",
            )
        if person in already:
            return Denied(
                "sod.already_approved",
                f"{person} already approved step '{step.name}'; each approval must come from "
                "a different person.",
            )
        for earlier in step.exclude.steps:
            if person in case.acted_on(earlier):
                return Denied(
                    "sod.prior_step_actor",
                    f"{person} acted on step '{case.process.step(earlier).name}' and may not also "
                    f"act on '{step.name}'.",
                )
        excluded = facts.lines.intersection(step.exclude.lines)
        if excluded:
            return Denied(
                "sod.line_excluded",
                f"People of the {', '.join(sorted(x.label for x in excluded))} line may not act on "
                f"step '{step.name}'.",
            )
        for name in step.exclude.beneficiaries:
            if case.payload.get(name) == person:
                return Denied(
                    "sod.beneficiary",
                    f"{person} is the {case.process.field(name).title.lower()} of this case "  # type: ignore[union-attr]
                    "and may not act on it.",
                )
        if denied := _cooling_off(case, step, person, context):
            return denied
    return step, acting


def _cooling_off(case: Case, step: StepSpec, person: str, context: Context) -> Denied | None:
    """#16: COOL-1 on an object — a recent maintainer of what the case names stays out."""
    for rule in step.exclude.maintained:
        people = context.maintainers.get(rule.key)
        if people is None:
            return Denied(
                "process.maintainers_unknown",
                f"Step '{step.name}' needs to know who recently maintained the "
                f"{rule.field} named; that was not gathered.",
            )
        if person in people:
            label = case.process.field(rule.field)
            what = label.title.lower() if label else rule.field
            return Denied(
                "sod.cooling_off",
                f"{person} maintained this {what} in the last {rule.days} days and may not act "
                f"on step '{step.name}' before that time has passed.",
            )
    return None


def _approve(
    case: Case, command: Command, actor: ActorFacts, context: Context
) -> Accepted | Denied:
    checked = _check_step(case, command, actor, context)
    if isinstance(checked, Denied):
        return checked
    step, acting = checked
    expected = CommandKind.RELEASE if step.action == StepAction.RELEASE else CommandKind.APPROVE
    if command.kind != expected:
        return Denied(
            "step.wrong_action",
            f"Step '{step.name}' is completed with '{expected.value}', not '{command.kind.value}'.",
        )
    if command.seen_payload_hash and command.seen_payload_hash != case.payload_hash:
        return Denied(
            "payload.changed",
            "The case changed since you opened it; look at the current version before approving.",
        )
    if step.authority:
        amount = money_of(case.payload.get(step.authority))
        short = acting.short_of(amount) if amount is not None else None
        if short is not None:
            return Denied(
                "authority.limit_exceeded",
                f"{amount} exceeds the competence limit of {short.name or short.person} "
                f"({short.competence or 'none'}).",
            )
    tier = case.tier(step)
    approvals = case.approvals(step.id)
    board_missing = tier.board - sum(a.board for a in approvals)
    slots_left = tier.approvals - len(approvals)
    if board_missing > 0 and slots_left <= board_missing and not acting.board:
        return Denied(
            "authority.board_required",
            f"Step '{step.name}' ({tier.label or 'this amount'}) needs {tier.board} approval(s) "
            "from board members; the remaining one(s) must come from the board.",
        )
    approved = Event(
        "approved",
        actor.person,
        on_behalf_of=acting.on_behalf_of,
        step=step.id,
        payload_hash=case.payload_hash,
        comment=command.comment,
        board=acting.board,
        tier=tier.label,
    )
    after = _apply(case, approved)
    if after.next_open_step() is None:
        return _accept(
            case,
            approved,
            Event(
                "released",
                actor.person,
                on_behalf_of=acting.on_behalf_of,
                payload_hash=case.payload_hash,
            ),
        )
    return _accept(case, approved)


def _reject_or_return(
    case: Case, command: Command, actor: ActorFacts, context: Context
) -> Accepted | Denied:
    checked = _check_step(case, command, actor, context)
    if isinstance(checked, Denied):
        return checked
    step, acting = checked
    if not command.comment.strip():
        verb = "rejecting" if command.kind == CommandKind.REJECT else "returning"
        return Denied("comment.required", f"Say why you are {verb} the case.")
    kind = "rejected" if command.kind == CommandKind.REJECT else "returned"
    return _accept(
        case,
        Event(
            kind,
            actor.person,
            on_behalf_of=acting.on_behalf_of,
            step=step.id,
            payload_hash=case.payload_hash,
            comment=command.comment.strip(),
        ),
    )


_HANDLERS = {
    CommandKind.SUBMIT: _submit,
    CommandKind.AMEND: _amend,
    CommandKind.WITHDRAW: _withdraw,
    CommandKind.COMMENT: _comment,
    CommandKind.APPROVE: _approve,
    CommandKind.RELEASE: _approve,
    CommandKind.REJECT: _reject_or_return,
    CommandKind.RETURN: _reject_or_return,
}
