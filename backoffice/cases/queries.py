"""Checked reads of cases, and the context ``decide`` needs.

One access path per object: ``access_case_by_id`` gives the same 404 for a case that does
not exist and for one the caller may not see, and it runs once per request: the services
take the case it returned (``do_command(actor, case, command)``). Who the caller is comes
from the request's ``Actor``, whose parts this app provides: the delegations active today,
the principals a person acts for, and the processes they take part in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import CharField, Count, Prefetch, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from backoffice.base.actor import Actor, people_facts
from backoffice.base.context import cached
from backoffice.base.effects import get_effect
from backoffice.base.references import directory
from backoffice.base.sorting import Sorting
from backoffice.cases.engines import engine_for, open_statuses
from backoffice.cases.guards import (
    guard_decides,
    guard_filters,
    guard_read,
    guarded_processes,
)
from backoffice.cases.models import Case, CaseEvent, Delegation, Process
from backoffice.core.actors import ActorFacts
from backoffice.core.credit import CreditStatus
from backoffice.core.errors import Denied, DomainError
from backoffice.core.four_eyes import Context, Status, resolve_chain, who_matches
from backoffice.core.four_eyes import Delegation as DomainDelegation
from backoffice.core.org import Period
from backoffice.core.payload import REFERENCE_TYPES, FieldType, Known, validate_payload
from backoffice.core.processes import ProcessSpec
from backoffice.org.queries import live_policy_version, who_words

__all__ = [
    "register_inbox_extra",
    "inbox_extras",
    "ActionOption",
    "CASE_LIST_ORDER",
    "CASE_SORTING",
    "events_of_process",
    "process_choices",
    "DELEGATION_ORDER",
    "DELEGATION_SORTING",
    "READ_ALL_PERMISSION",
    "access_case_by_id",
    "active_delegations",
    "available_actions",
    "build_context",
    "delegations_of",
    "domain_case",
    "INBOX_PAGE",
    "InboxPage",
    "get_inbox",
    "inbox_cases",
    "INBOX_COUNT_CAP",
    "inbox_count",
    "known_for",
    "field_picks",
    "payload_field_errors",
    "listed_cases",
    "AGE_BANDS",
    "cases_by_age",
    "cases_by_state",
    "live_processes",
    "may_see",
    "principals_of",
    "stored_known",
    "visible_cases",
    "with_history",
]

#: Auditors and compliance read every case (read-only); nobody else sees what is not theirs.
READ_ALL_PERMISSION = "case.read.all"

_processes: dict[str, Any] = {}


def live_processes() -> dict[str, Process]:
    """The live policy's processes by key, read once per policy version (only loading a
    policy changes them, and it makes a new version)."""
    version = live_policy_version()
    if _processes.get("version") != version:
        read = {p.key: p for p in Process.objects.filter(retired_at__isnull=True)}
        _processes.clear()
        _processes.update(version=version, rows=read)
    rows: dict[str, Process] = _processes["rows"]
    return rows


def process_choices() -> list[tuple[str, str]]:
    """#19: the live processes as (key, name in the reader's language) for a filter's
    select, in the order the cases list shows them."""
    return [(p.key, p.label) for p in live_processes().values()]


def events_of_process(key: str) -> Q:
    """#19: the audit events of one process's cases (the audit list's process filter)."""
    ids = Case.objects.filter(process__key=key).annotate(text_id=Cast("pk", CharField()))
    return Q(object_type="case", object_id__in=ids.values("text_id"))


def active_delegations(day: date) -> tuple[DomainDelegation, ...]:
    rows = Delegation.objects.filter(
        valid_from__lte=day, valid_to__gt=day, ended_at__isnull=True
    ).values_list(
        "principal__username", "substitute__username", "valid_from", "valid_to", "approved_risks"
    )
    return tuple(
        DomainDelegation(principal, substitute, Period(start, end), frozenset(risks))
        for principal, substitute, start, end, risks in rows
    )


#: Delegations by their start, the latest first (the pk breaks ties): the current and
#: coming ones lead, the old ones follow.
DELEGATION_ORDER = ("-valid_from", "-pk")

#: #19: the columns the delegations list sorts by
DELEGATION_SORTING = Sorting(
    Delegation,
    {
        "absent": ("principal__username",),
        "substitute": ("substitute__username",),
        "from": ("valid_from",),
        "until": ("valid_to",),
    },
    DELEGATION_ORDER,
    descending_first=frozenset({"from", "until"}),
)


def delegations_of(actor: Actor) -> QuerySet[Delegation]:
    """The delegations the actor gave (as the one away) and received (as the substitute)."""
    return Delegation.objects.filter(
        Q(principal_id=actor.pk) | Q(substitute_id=actor.pk)
    ).select_related("principal__profile", "substitute__profile")


def principals_of(person: str, delegations: Iterable[DomainDelegation], day: date) -> list[str]:
    """Everyone ``person`` may act for today, through chains of delegations."""
    context = Context(today=day, delegations=tuple(delegations))
    candidates = {d.principal for d in context.delegations}
    return sorted(p for p in candidates if p != person and resolve_chain(p, person, context))


# -- the actor's parts (registered in apps.ready) -------------------------------------------


def actor_delegations(actor: Actor) -> tuple[DomainDelegation, ...]:
    return active_delegations(actor.today)


def actor_principals(actor: Actor) -> Mapping[str, ActorFacts]:
    names = principals_of(actor.person, actor.delegations, actor.today)
    return people_facts(names, actor.today) if names else {}


def eligible_processes(facts: ActorFacts) -> frozenset[str]:
    """Processes with a step ``facts`` qualify for (once per policy version and facts)."""
    processes = live_processes()
    memo: dict[ActorFacts, frozenset[str]] = _processes.setdefault("eligible", {})
    if facts not in memo:
        memo[facts] = frozenset(
            key
            for key, process in processes.items()
            if any(who_matches(step.who, facts) for step in process.spec.steps)
        )
    return memo[facts]


def actor_processes(actor: Actor) -> frozenset[str]:
    """Processes with a step the actor, or someone they act for, qualifies for."""
    people = [actor.facts, *actor.principals.values()]
    return frozenset().union(*(eligible_processes(f) for f in people))


# -- references a payload names -------------------------------------------------------------


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
    """Which of the ids a new payload references exist (only those are looked up, each by
    the app that keeps them: ``base.references``)."""
    wanted = _references(spec, payload)

    def existing(kind: FieldType) -> frozenset[str]:
        return directory(kind.value).existing(wanted[kind]) if wanted[kind] else frozenset()

    return Known(
        people=existing(FieldType.PERSON),
        units=existing(FieldType.UNIT),
        roles=existing(FieldType.ROLE),
    )


def field_picks(actor: Actor, spec: ProcessSpec) -> dict[str, list[tuple[str, str]]]:
    """#19 (defect 14): the fields of a process's form that are picked from a list this
    person may see (a wall crossing's project), each as (value, label); the process's
    effect knows them (``field_choices``), or there are none."""
    choose = getattr(get_effect(spec.effect), "field_choices", None)
    picks: dict[str, list[tuple[str, str]]] = choose(actor) if choose is not None else {}
    return picks


def payload_field_errors(spec: ProcessSpec, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """#19 (defect 14): the process's field rules (formats, bounds, references) over what
    was entered, so that a form whose other fields did not even parse still shows every
    field's error at once, not one stage per submission. Reads only; records nothing."""
    _values, errors = validate_payload(spec.payload, payload, known_for(spec, payload))
    return [(e.field, e.message) for e in errors]


def build_context(actor: Actor, known: Known, on_behalf_of: str | None = None) -> Context:
    """Today, what references exist, the delegations, and the facts of those the actor acts
    for along the chain (#13: with the rules for acting on someone's behalf)."""
    words = who_words()
    if not on_behalf_of or on_behalf_of == actor.person:
        return Context(today=actor.today, known=known, words=words)  # no delegation read
    context = Context(today=actor.today, known=known, delegations=actor.delegations)
    chain = resolve_chain(on_behalf_of, actor.person, context) or []
    people = {name: actor.principals[name] for name in chain[:-1] if name in actor.principals}
    return Context(
        today=actor.today,
        known=known,
        delegations=actor.delegations,
        people=people,
        acting=actor.acting,
        words=words,
    )


# -- checked reads ----------------------------------------------------------------------


def domain_case(case: Case) -> Any:
    """The case as its engine sees it, replayed from its stored events (prefetch them);
    once per loaded row (``services`` keeps it current after a command)."""
    memo: tuple[int, Any] | None = case.__dict__.get("_domain")
    if memo is None or memo[0] != case.version:
        events = [e.to_domain() for e in case.events.all()]
        memo = (case.version, engine_for(case.spec).replay(case.spec, events))
        case.__dict__["_domain"] = memo
    return memo[1]


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """NetBox-style ``restrict``: the cases the actor may see, as a queryset.

    #8: read guards (Chinese walls) hide walled cases from people outside the wall, even
    from those who read every case, and show a deal's cases to the people brought over it.
    ``may_see`` is the same rule for one loaded case. Built once per actor and policy
    version, like ``inbox_cases``; each caller gets a fresh copy.
    """
    built: dict[Any, QuerySet[Case]] = actor.__dict__.setdefault("visible", {})
    version = live_policy_version()
    if version not in built:
        built[version] = _visible_cases(actor)
    return built[version].all()


def _visible_cases(actor: Actor) -> QuerySet[Case]:
    cases = Case.objects.all()
    also, only = guard_filters(actor)
    if READ_ALL_PERMISSION in actor.permissions:
        return cases.filter(only)
    involved = CaseEvent.objects.filter(actor=actor.person).values("case_id")
    mine = (
        Q(maker_id=actor.pk)
        | Q(pk__in=involved)
        | Q(process__key__in=sorted(actor.processes))
        | also
    )
    return cases.filter(mine).filter(only)


#: The cases list, newest first: the pk grows with every new case and is the index a page
#: reads (``base.pages.keyset``), however many cases there are.
CASE_LIST_ORDER = ("-pk",)

#: #19: the columns the cases list sorts by (``?sort=``); the pk breaks ties
CASE_SORTING = Sorting(
    Case,
    {
        "number": ("pk",),
        "title": ("title",),
        "process": ("process__name",),
        "maker": ("maker__username",),
        "state": ("status",),
        "changed": ("last_updated",),
    },
    CASE_LIST_ORDER,
    descending_first=frozenset({"number", "changed"}),
)


def listed_cases(
    actor: Actor,
    *,
    state: str | None = None,
    process: str | None = None,
    age: str | None = None,
    maker: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """The cases list: what the actor may see, in one state and one process if asked, (#19,
    the dashboard's age chart) the open ones of one age band (``AGE_BANDS``), and started by
    one person (#19: exact on the login the person picker gives)."""
    cases = visible_cases(actor).select_related("process", "maker__profile")
    if state:
        cases = cases.filter(status=state)
    if process:
        cases = cases.filter(process__key=process)
    if age:
        cases = cases.filter(_open_of_age(age, now or timezone.now()))
    if maker:
        cases = cases.filter(maker__username=maker)
    return cases


#: #19: open cases by how long ago they were started: the key (as ``?age=`` takes it) and
#: the band's days, from (inclusive) to (exclusive; None: no end)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("7-30", 7, 30),
    ("30-90", 30, 90),
    ("90-", 90, None),
)


def _open_of_age(band: str, now: datetime) -> Q:
    """Open cases started within ``band``; an unknown band matches nothing (never all)."""
    found = next(((low, high) for key, low, high in AGE_BANDS if key == band), None)
    if found is None:
        return Q(pk__in=[])
    low, high = found
    age = Q(created__lte=now - timedelta(days=low))
    if high is not None:
        age &= Q(created__gt=now - timedelta(days=high))
    return age & ~Q(status__in=CLOSED_STATUSES)


def cases_by_age(actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """#19: how many open cases the actor may see fall in each age band, in one query: the
    same condition as ``listed_cases(age=…)``, so a bar and its list agree."""
    now = now or timezone.now()
    counts = visible_cases(actor).aggregate(
        **{
            f"band_{i}": Count("pk", filter=_open_of_age(key, now))
            for i, (key, _low, _high) in enumerate(AGE_BANDS)
        }
    )
    return {key: counts[f"band_{i}"] for i, (key, _low, _high) in enumerate(AGE_BANDS)}


def cases_by_state(actor: Actor) -> dict[str, int]:
    """#19: how many cases the actor may see are in each state, in one query (the dashboard's
    state chart and its tile "in escalation" both read this, as the list's ``?state=``)."""
    rows = visible_cases(actor).values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


#: statuses in which a case is done with: a new case on its object may start (#19)
CLOSED_STATUSES = frozenset(
    {s.value for s in Status if s.is_final} | {s.value for s in CreditStatus if s.is_final}
)


def open_cases_on(actor: Actor, process_key: str, name: str) -> dict[str, Case]:
    """#19: the open cases of a process the actor may see, by the payload field ``name``
    (which restriction has a lift pending), in one query."""
    cases = visible_cases(actor).filter(process__key=process_key).select_related("maker__profile")
    cases = cases.exclude(status__in=CLOSED_STATUSES | {"draft"}).order_by("-pk")
    return {str(case.payload.get(name)): case for case in cases}


def may_see(actor: Actor, case: Case) -> bool:
    """``visible_cases`` for one case whose events are loaded, without a query of its own."""
    guarded = guard_decides(actor, case)
    if guarded is not None:
        return guarded
    return (
        READ_ALL_PERMISSION in actor.permissions
        or case.maker_id == actor.pk
        or case.process.key in eligible_processes(actor.facts)
        or any(e.actor == actor.person for e in case.events.all())
        or case.process.key in actor.processes  # through someone the actor acts for
    )


def with_history(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("process", "maker", "maker__profile").prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.order_by("seq"))
    )


def access_case_by_id(actor: Actor, case_id: int) -> Case:
    """The case if the actor may see it; the same 404 whether missing or forbidden.

    #8: behind a Chinese wall a read guard records the attempt (in its own transaction)
    and notes every allowed read of walled data (Brewer–Nash history).
    """
    case = with_history(Case.objects.filter(pk=case_id)).first()
    if case is not None and not may_see(actor, case):
        guard_read(actor, case, record=False)
        case = None
    if case is None:
        raise DomainError("case.not_found", f"There is no case {case_id} that you may see.")
    guard_read(actor, case)
    return case


@dataclass(frozen=True)
class ActionOption:
    """One thing the caller might do now, and why not if they may not."""

    action: str
    allowed: bool
    on_behalf_of: str | None = None
    code: str | None = None
    reason: str = ""


def available_actions(actor: Actor, case: Case) -> list[ActionOption]:
    """Dry-run ``decide`` for every action, as the caller and for each principal they act for.

    The engine of the case's process names the actions to try (``cases.engines``).
    """
    current = domain_case(case)
    engine = engine_for(case.spec)
    known = stored_known(case.spec, current.payload)
    options: list[ActionOption] = []
    for principal in [None, *sorted(actor.principals)]:
        context = build_context(actor, known, principal)
        for action, command in engine.dry_run(current, principal):
            result = engine.decide(case, current, command, actor.facts, context, case.spec)
            if isinstance(result, Denied):
                options.append(ActionOption(action, False, principal, result.code, result.message))
            else:
                options.append(ActionOption(action, True, principal))
    return options


#: rows of an inbox page
INBOX_PAGE = 50
#: The badge counts this far; "99+" beyond.
INBOX_COUNT_CAP = 100


def inbox_cases(actor: Actor, process: str | None = None) -> QuerySet[Case]:
    """Open cases waiting at a step the actor takes part in and has not acted on, as each
    engine can tell in one statement (``Engine.inbox_filter``): what the badge counts.

    #19 Server time: the condition spans every live process; building it cost the
    dashboard more than its three statements did. It is built once per actor and policy
    version (``Actor.forget`` drops it with the facts it rests on); each caller gets a
    fresh copy, so every statement still reads the database as it is now."""
    built: dict[tuple[Any, str | None], QuerySet[Case]] = actor.__dict__.setdefault("inbox", {})
    key = (live_policy_version(), process)
    if key not in built:
        built[key] = _waiting_cases(actor, process)
    return built[key].all()


def _waiting_cases(actor: Actor, process: str | None) -> QuerySet[Case]:
    waiting = Q(pk__in=[])
    for key, row in live_processes().items():
        if process is None or key == process:
            condition = engine_for(row.spec).inbox_filter(row, actor)
            waiting |= condition if condition is not None else Q(pk__in=[])
    cases = Case.objects.filter(waiting, status__in=open_statuses()).exclude(maker_id=actor.pk)
    if guarded_processes() & actor.processes:  # only then must the wall know the actor
        cases = cases.filter(guard_filters(actor)[1])
    return cases


def inbox_count(actor: Actor) -> int:
    """The inbox badge: one count statement (besides the actor's own facts), once a request.

    It counts to ``INBOX_COUNT_CAP`` and stops, as a mail client's badge does: each waiting
    case costs a probe of its events, and a back office with 20,000 payments waiting would
    otherwise pay for all of them on every page it opens (``benchmarks/pages.py``)."""
    return cached(
        f"inbox_count:{actor.pk}", lambda: inbox_cases(actor).order_by()[:INBOX_COUNT_CAP].count()
    )


@dataclass(frozen=True)
class InboxPage:
    cases: list[Case]
    next_cursor: int | None
    #: with ``not_yet``: the cases listed that the rules refuse for now, and why
    not_yet: dict[int, ActionOption | None] = field(default_factory=dict)


def get_inbox(
    actor: Actor,
    after: int | None = None,
    limit: int = INBOX_PAGE,
    process: str | None = None,
    *,
    not_yet: bool = False,
) -> InboxPage:
    """A page of the cases the actor may act on now (approve, release; vote, decide), oldest
    first, after case ``after`` (keyset). Each candidate is tried with ``decide``; one the
    rules refuse after all (a board approval still missing, a cooling-off) is left out, or
    with ``not_yet`` listed with the refusal: then the page lists every case the badge
    counts (``inbox_count``), and says which wait for something else first."""
    candidates = inbox_cases(actor, process)
    if after is not None:
        candidates = candidates.filter(pk__gt=after)
    page = list(with_history(candidates).order_by("pk")[: limit + 1])
    rows = page[:limit]
    by_engine: dict[str, list[Case]] = {}
    for case in rows:
        by_engine.setdefault(case.spec.engine, []).append(case)
    for cases in by_engine.values():
        engine_for(cases[0].spec).prefetch(cases)
    listed: list[Case] = []
    refused: dict[int, ActionOption | None] = {}
    for case in rows:
        acting = engine_for(case.spec).acting_actions
        options = [o for o in available_actions(actor, case) if o.action in acting]
        if any(o.allowed for o in options):
            listed.append(case)
        elif not_yet:
            listed.append(case)
            refused[case.pk] = next((o for o in options if o.reason), None)
    return InboxPage(listed, rows[-1].pk if len(page) > limit else None, refused)


# -- what else waits in the inbox (#15) ----------------------------------------------------

_inbox_extras: list[Callable[[Actor], Mapping[str, Any]]] = []


def register_inbox_extra(provide: Callable[[Actor], Mapping[str, Any]]) -> None:
    """An app above this one adds to the inbox page's context what waits for the person
    besides cases (``access``: overdue access reviews of the people they manage)."""
    _inbox_extras.append(provide)


def inbox_extras(actor: Actor) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for provide in _inbox_extras:
        extra.update(provide(actor))
    return extra
