"""Checked reads of cases, and the facts and context ``decide`` needs.

One access path per object: ``access_case_by_id`` gives the same 404 for a case that does
not exist and for one the caller may not see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from backoffice.access.models import Role
from backoffice.access.queries import get_acting_rules
from backoffice.accounts.queries import get_actor_facts
from backoffice.cases.engines import engine_for, open_statuses
from backoffice.cases.guards import guard_filters, guard_read
from backoffice.cases.models import Case, CaseEvent, Delegation, Process
from backoffice.core.actors import ActorFacts
from backoffice.core.delegation import ActingRules
from backoffice.core.errors import Denied, DomainError
from backoffice.core.four_eyes import (
    Case as DomainCase,
)
from backoffice.core.four_eyes import (
    Context,
    resolve_chain,
    who_matches,
)
from backoffice.core.four_eyes import (
    Delegation as DomainDelegation,
)
from backoffice.core.payload import REFERENCE_TYPES, FieldType, Known
from backoffice.core.processes import ProcessSpec
from backoffice.org.models import Unit

__all__ = [
    "ActionOption",
    "READ_ALL_PERMISSION",
    "access_case_by_id",
    "available_actions",
    "build_context",
    "known_for",
    "stored_known",
    "domain_case",
    "get_inbox",
    "visible_cases",
    "principals_of",
]

#: Auditors and compliance read every case (read-only); nobody else sees what is not theirs.
READ_ALL_PERMISSION = "case.read.all"


def active_delegations(day: date) -> tuple[DomainDelegation, ...]:
    rows = Delegation.objects.filter(
        valid_from__lte=day, valid_to__gt=day, ended_at__isnull=True
    ).select_related("principal", "substitute")
    return tuple(
        DomainDelegation(
            r.principal.username, r.substitute.username, r.period, frozenset(r.approved_risks)
        )
        for r in rows
    )


def principals_of(person: str, delegations: Iterable[DomainDelegation], day: date) -> list[str]:
    """Everyone ``person`` may act for today, through chains of delegations."""
    context = Context(today=day, delegations=tuple(delegations))
    candidates = {d.principal for d in context.delegations}
    return sorted(p for p in candidates if p != person and resolve_chain(p, person, context))


def _references(spec: ProcessSpec, payload: Mapping[str, Any] | None) -> dict[FieldType, set[str]]:
    wanted: dict[FieldType, set[str]] = {kind: set() for kind in REFERENCE_TYPES}
    for field_spec in spec.payload:
        value = (payload or {}).get(field_spec.name)
        if field_spec.type in wanted and isinstance(value, str):
            wanted[field_spec.type].add(value)
    return wanted


def stored_known(spec: ProcessSpec, payload: Mapping[str, Any]) -> Known:
    """References of a payload that was validated when it was stored, taken as they are."""
    wanted = _references(spec, payload)
    return Known(
        people=frozenset(wanted[FieldType.PERSON]),
        units=frozenset(wanted[FieldType.UNIT]),
        roles=frozenset(wanted[FieldType.ROLE]),
    )


def known_for(spec: ProcessSpec, payload: Mapping[str, Any] | None) -> Known:
    """Which of the ids a new payload references exist (only those are looked up)."""
    wanted = _references(spec, payload)
    users = get_user_model().objects
    return Known(
        people=frozenset(
            users.filter(username__in=wanted[FieldType.PERSON], is_active=True).values_list(
                "username", flat=True
            )
        )
        if wanted[FieldType.PERSON]
        else frozenset(),
        units=frozenset(
            Unit.objects.filter(
                key__in=wanted[FieldType.UNIT], retired_at__isnull=True
            ).values_list("key", flat=True)
        )
        if wanted[FieldType.UNIT]
        else frozenset(),
        roles=frozenset(
            Role.objects.filter(
                key__in=wanted[FieldType.ROLE], retired_at__isnull=True
            ).values_list("key", flat=True)
        )
        if wanted[FieldType.ROLE]
        else frozenset(),
    )


def build_context(
    known: Known,
    actor: ActorFacts,
    on_behalf_of: str | None = None,
    day: date | None = None,
    delegations: tuple[DomainDelegation, ...] | None = None,
    facts_cache: dict[str, ActorFacts] | None = None,
    acting_cache: dict[str, ActingRules | None] | None = None,
) -> Context:
    """Today, what references exist, the delegations, and the facts of chain members.

    ``facts_cache`` and ``acting_cache`` let a caller that builds many contexts (the inbox)
    look each delegation principal, and the actor's access rules (#13), up once.
    """
    day = day or timezone.localdate()
    delegations = active_delegations(day) if delegations is None else delegations
    context = Context(today=day, known=known, delegations=delegations)
    people: dict[str, ActorFacts] = {}
    acting: ActingRules | None = None
    if on_behalf_of and on_behalf_of != actor.person:
        chain = resolve_chain(on_behalf_of, actor.person, context) or []
        cache = {} if facts_cache is None else facts_cache
        missing = [name for name in chain[:-1] if name not in cache]
        users = get_user_model().objects.select_related("profile").filter(username__in=missing)
        cache.update({u.username: get_actor_facts(u, day) for u in users})
        people = {name: cache[name] for name in chain[:-1] if name in cache}
        # #13: acting for someone is judged with the actor's own functions
        rules_cache = {} if acting_cache is None else acting_cache
        if actor.person not in rules_cache:
            user = get_user_model().objects.filter(username=actor.person).first()
            rules_cache[actor.person] = get_acting_rules(user, day) if user else None
        acting = rules_cache[actor.person]
    return Context(
        today=day, known=context.known, delegations=delegations, people=people, acting=acting
    )


def domain_case(case: Case) -> DomainCase:
    """The case as its engine sees it, replayed from its stored events (prefetch them)."""
    events = [e.to_domain() for e in case.events.all()]
    return engine_for(case.spec).replay(case.spec, events)


def _eligible_processes(facts: list[ActorFacts]) -> set[str]:
    """Processes with a step (or start) that any of these people qualify for."""
    keys = set()
    for process in Process.objects.filter(retired_at__isnull=True).only("key", "definition"):
        spec = process.spec
        whos = [step.who for step in spec.steps]
        if any(who_matches(who, f) for who in whos for f in facts):
            keys.add(process.key)
    return keys


def visible_cases(user: Any, facts: ActorFacts | None = None) -> QuerySet[Case]:
    """NetBox-style ``restrict``: the cases ``user`` may see, as a queryset.

    #8: read guards (Chinese walls) hide walled cases from people outside the wall, even
    from those who read every case, and show a deal's cases to the people brought over it.
    """
    facts = facts or get_actor_facts(user)
    cases = Case.objects.all()
    also, only = guard_filters(user, facts)
    if READ_ALL_PERMISSION in facts.permissions:
        return cases.filter(only)
    day = timezone.localdate()
    principals = principals_of(facts.person, active_delegations(day), day)
    principal_facts = [
        get_actor_facts(u, day)
        for u in get_user_model().objects.select_related("profile").filter(username__in=principals)
    ]
    eligible = _eligible_processes([facts, *principal_facts])
    involved = CaseEvent.objects.filter(actor=facts.person).values("case_id")
    mine = Q(maker=user) | Q(pk__in=involved) | Q(process__key__in=eligible) | also
    return cases.filter(mine).filter(only)


def with_history(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("process", "maker", "maker__profile").prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.order_by("seq"))
    )


def access_case_by_id(user: Any, case_id: int, *, for_update: bool = False) -> Case:
    """The case if ``user`` may see it; the same 404 whether missing or forbidden.

    #8: except behind a Chinese wall: a read guard refuses such a case with its own code
    (``wall.not_inside``, 403) and records the attempt, and notes every allowed read of
    walled data (Brewer–Nash history). Refusals are recorded in their own transaction, so
    ``do_command`` reads the case this way before it opens the command's.
    """
    cases = visible_cases(user).filter(pk=case_id)
    if for_update:
        # Lock the row itself; the visibility filter ran in the same statement.
        locked = Case.objects.select_for_update(of=("self",)).filter(pk__in=cases.values("pk"))
        case = locked.select_related("process", "maker").first()
    else:
        case = with_history(cases).first()
    if case is None:
        hidden = Case.objects.select_related("process").filter(pk=case_id).first()
        if hidden is not None:
            guard_read(user, hidden, record=False)
        raise DomainError("case.not_found", f"There is no case {case_id} that you may see.")
    guard_read(user, case)
    return case


@dataclass(frozen=True)
class ActionOption:
    """One thing the caller might do now, and why not if they may not."""

    action: str
    allowed: bool
    on_behalf_of: str | None = None
    code: str | None = None
    reason: str = ""


def available_actions(
    case: Case,
    user: Any,
    facts: ActorFacts | None = None,
    delegations: tuple[DomainDelegation, ...] | None = None,
    facts_cache: dict[str, ActorFacts] | None = None,
    acting_cache: dict[str, ActingRules | None] | None = None,
) -> list[ActionOption]:
    """Dry-run ``decide`` for every action, as the caller and for each principal they act for.

    The engine of the case's process names the actions to try (``cases.engines``).
    """
    facts = facts or get_actor_facts(user)
    day = timezone.localdate()
    delegations = active_delegations(day) if delegations is None else delegations
    acting_cache = {} if acting_cache is None else acting_cache
    current = domain_case(case)
    engine = engine_for(case.spec)
    options: list[ActionOption] = []
    principals: list[str | None] = [None, *principals_of(facts.person, delegations, day)]
    for principal in principals:
        known = stored_known(case.spec, current.payload)
        context = build_context(
            known, facts, principal, day, delegations, facts_cache, acting_cache
        )
        for action, command in engine.dry_run(current, principal):
            result = engine.decide(case, current, command, facts, context, case.spec)
            if isinstance(result, Denied):
                options.append(ActionOption(action, False, principal, result.code, result.message))
            else:
                options.append(ActionOption(action, True, principal))
    return options


def get_inbox(user: Any) -> list[Case]:
    """Open cases the user may act on now (approve, release; vote, decide) — oldest first."""
    facts = get_actor_facts(user)
    day = timezone.localdate()
    delegations = active_delegations(day)
    candidates = with_history(
        visible_cases(user, facts).filter(status__in=open_statuses()).exclude(maker=user)
    ).order_by("created")
    inbox = []
    facts_cache: dict[str, ActorFacts] = {}
    acting_cache: dict[str, ActingRules | None] = {}
    for case in candidates:
        acting = engine_for(case.spec).acting_actions
        options = available_actions(case, user, facts, delegations, facts_cache, acting_cache)
        if any(o.allowed and o.action in acting for o in options):
            inbox.append(case)
    return inbox
