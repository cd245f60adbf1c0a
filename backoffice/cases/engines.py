"""Which engine evaluates a process's rules: the extension point of the cases services.

A process spec names its ``engine`` (``core.processes.ProcessSpec.engine``). The default,
``four_eyes``, is ``core.four_eyes`` (steps, tiers, maker-checker). Another app can register
an engine for its processes (the credit app registers ``credit`` in its ``ready()``); its
cases still are ``cases.Case`` rows with the same events, audit trail, idempotency, inbox and
visibility — only ``replay``, ``decide`` and the list of dry-run actions differ.

An engine's ``decide`` gets the case row as well as the replayed case, so it can gather the
facts its rules need from the database (as the credit engine does for exposures and
cooling-off); the rules themselves stay pure in ``backoffice.core``. A rule over a sum of
other cases must see every concurrent contribution (#13): before ``decide``, the command's
transaction calls the engine's ``lock``, which serialises the commands adding to one sum
(the credit engine locks the borrower group, the four-eyes engine a process's aggregate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.aggregates import find_aggregate, find_maintainers, lock_aggregate
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied, DomainError
from backoffice.core.four_eyes import (
    Accepted,
    Command,
    CommandKind,
    Context,
    Event,
    Status,
    decide,
    replay,
    who_matches,
)
from backoffice.core.processes import ProcessSpec

__all__ = [
    "Engine",
    "FourEyesEngine",
    "engine_for",
    "engines",
    "open_statuses",
    "register_engine",
]


class Engine(Protocol):
    #: statuses in which a case waits for someone other than its maker (the inbox)
    open_statuses: frozenset[str]
    #: dry-run actions that put a case into the caller's inbox when allowed
    acting_actions: frozenset[str]

    def replay(self, spec: ProcessSpec, events: Sequence[Event]) -> Any: ...

    def decide(
        self,
        row: Any,
        current: Any,
        command: Any,
        actor: ActorFacts,
        context: Context,
        spec: ProcessSpec,
    ) -> Accepted | Denied:
        """``row``/``current`` are None for a start; ``spec`` is the process to start."""
        ...

    def dry_run(self, current: Any, principal: str | None) -> list[tuple[str, Any]]:
        """The commands ``available_actions`` tries, named as the API names them."""
        ...

    def after_persist(self, row: Any, result: Accepted, actor: str) -> None:
        """Runs in the command's transaction after its events are written (projections)."""
        ...

    def lock(self, row: Any, current: Any, command: Any) -> None:
        """Runs in the command's transaction before ``decide``: lock whatever the command's
        rules sum over besides this case, until the transaction ends (#13)."""
        ...

    def page_context(self, row: Any, actor: Any, actions: list[Any]) -> dict[str, Any]:
        """What the engine adds to the case page (its panel's context), given the actions
        the page already worked out: the cases app never imports an engine's app (#14)."""
        ...

    def command_from_form(self, data: Mapping[str, Any]) -> Any:
        """The command the case page's action form describes (``ActionForm``'s fields)."""
        ...

    def inbox_filter(self, process: Any, actor: Actor) -> Q | None:
        """The open cases of ``process`` (a ``Process`` row of this engine) waiting at a
        stage the actor takes part in and has not acted on yet, as a condition (None: none).

        The inbox badge counts these in one statement; the inbox page then tries each of
        its rows with ``decide`` (#14)."""
        ...

    def prefetch(self, rows: Sequence[Any]) -> None:
        """Warm what ``decide`` reads for a page of this engine's cases, in a few statements."""
        ...


class FourEyesEngine:
    """``core.four_eyes`` as it always was: nothing here changes its behaviour."""

    open_statuses = frozenset({"submitted"})
    acting_actions = frozenset({"approve", "release"})
    _checker_actions = (
        CommandKind.APPROVE,
        CommandKind.RELEASE,
        CommandKind.RETURN,
        CommandKind.REJECT,
    )
    _actions = (
        CommandKind.SUBMIT,
        CommandKind.AMEND,
        CommandKind.APPROVE,
        CommandKind.RELEASE,
        CommandKind.RETURN,
        CommandKind.REJECT,
        CommandKind.WITHDRAW,
        CommandKind.COMMENT,
    )

    def replay(self, spec: ProcessSpec, events: Sequence[Event]) -> Any:
        return replay(spec, list(events))

    def decide(
        self,
        row: Any,
        current: Any,
        command: Any,
        actor: ActorFacts,
        context: Context,
        spec: ProcessSpec,
    ) -> Accepted | Denied:
        if current is None:
            return decide(None, command, actor, context, spec)
        if (
            spec.aggregate is not None
            and command.kind == CommandKind.SUBMIT
            and current.status in (Status.DRAFT, Status.RETURNED)
        ):
            found = find_aggregate(row, spec, current.payload, timezone.now())
            context = replace(context, aggregate=found)
        if command.kind in self._checker_actions and any(s.exclude.maintained for s in spec.steps):
            maintainers = find_maintainers(spec, current.payload, timezone.now())
            context = replace(context, maintainers=maintainers)
        return decide(current, command, actor, context)

    def lock(self, row: Any, current: Any, command: Any) -> None:
        """A submission of a process with an ``aggregate`` locks the sum it reads."""
        if row.spec.aggregate is not None and command.kind == CommandKind.SUBMIT:
            lock_aggregate(row.spec, current.payload)

    def dry_run(self, current: Any, principal: str | None) -> list[tuple[str, Any]]:
        return [
            (
                kind.value,
                Command(kind, comment="(dry run)", payload=current.payload, on_behalf_of=principal),
            )
            for kind in self._actions
            if not principal or kind in self._checker_actions
        ]

    def after_persist(self, row: Any, result: Accepted, actor: str) -> None:
        return None

    def page_context(self, row: Any, actor: Any, actions: list[Any]) -> dict[str, Any]:
        return {}

    def command_from_form(self, data: Mapping[str, Any]) -> Any:
        if data["action"] not in {k.value for k in CommandKind}:
            raise DomainError("case.wrong_state", f"This case has no action {data['action']!r}.")
        return Command(
            CommandKind(data["action"]),
            comment=data["comment"],
            on_behalf_of=data["on_behalf_of"] or None,
            seen_payload_hash=data["payload_hash"] or None,
        )

    def inbox_filter(self, process: Any, actor: Actor) -> Q | None:
        """Each step the actor (or someone they act for) qualifies for, minus what the step's
        own rules exclude that a statement can see: the maker, a beneficiary, a limit below
        the amount, the actor's approval in this round or on an excluded earlier step."""
        spec: ProcessSpec = process.spec
        people = [actor.facts, *actor.principals.values()]
        found: Q | None = None
        for step in spec.steps:
            qualified = [
                f
                for f in people
                if who_matches(step.who, f) and not f.lines & set(step.exclude.lines)
            ]
            if not qualified:
                continue
            mine = _approved_by(actor.person, OuterRef("current_step"), this_round=True)
            waiting = Q(process_id=process.pk, current_step=step.id) & Q(~Exists(mine))
            for earlier in step.exclude.steps:
                earlier_mine = _approved_by(actor.person, earlier, this_round=False)
                waiting = waiting & Q(~Exists(earlier_mine))
            for name in step.exclude.beneficiaries:
                waiting = waiting & ~Q(**{f"payload__{name}": actor.person})
            limit = actor.facts.competence
            if step.authority and step.authority == spec.amount:
                if limit is None:
                    continue
                waiting = waiting & Q(currency=limit.currency, amount__lte=limit.amount)
            found = waiting if found is None else found | waiting
        return found

    def prefetch(self, rows: Sequence[Any]) -> None:
        return None


def _approved_by(person: str, step: Any, *, this_round: bool) -> Any:
    """Approvals by ``person`` on ``step`` of the outer case (since its last submission)."""
    from backoffice.cases.models import CaseEvent

    approvals = CaseEvent.objects.filter(
        case_id=OuterRef("pk"), kind="approved", actor=person, step=step
    )
    if this_round:
        last = CaseEvent.objects.filter(case_id=OuterRef(OuterRef("pk")), kind="submitted")
        approvals = approvals.filter(seq__gt=Subquery(last.order_by("-seq").values("seq")[:1]))
    return approvals


def engines() -> list[Engine]:
    return list(_ENGINES.values())


_ENGINES: dict[str, Engine] = {"four_eyes": FourEyesEngine()}


def register_engine(name: str, engine: Engine) -> None:
    _ENGINES[name] = engine


def engine_for(spec: ProcessSpec) -> Engine:
    """The engine a process names; an unregistered one is a deployment error, not a default."""
    if spec.engine not in _ENGINES:
        raise LookupError(f"no engine {spec.engine!r} is registered (process {spec.id!r})")
    return _ENGINES[spec.engine]


def open_statuses() -> set[str]:
    return {status for engine in _ENGINES.values() for status in engine.open_statuses}
