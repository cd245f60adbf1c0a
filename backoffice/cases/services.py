"""Every write to a case: load facts, ask ``decide``, persist events — in one transaction.

The case row is locked (``select_for_update``; on SQLite every write transaction is
IMMEDIATE), so two checkers releasing at once produce exactly one release: the second
sees the released case and is denied ``case.wrong_state``. A rule over a sum of other
cases (a borrower group's exposure, a creditor's payments within a day) is decided under
the engine's ``lock`` as well, so concurrent contributions are summed one after the other
(#13). A denied command changes nothing but the record of its denial (a ``denied`` case
event and an audit event).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from backoffice.audit.services import Entry, collecting, do_refuse, record, record_all
from backoffice.base.actor import Actor
from backoffice.base.effects import get_effect
from backoffice.cases.engines import engine_for
from backoffice.cases.guards import guard_write
from backoffice.cases.models import Case, CaseEvent, Delegation, Process
from backoffice.cases.queries import (
    CLOSED_STATUSES,
    access_case_by_id,
    build_context,
    domain_case,
    known_for,
    live_processes,
    stored_known,
    visible_cases,
)
from backoffice.core.delegation import same_person
from backoffice.core.errors import FORM_ERRORS, Denied, DomainError
from backoffice.core.four_eyes import (
    Accepted,
    Command,
    CommandKind,
    Context,
    Event,
    aggregate_key,
    resolve_chain,
)
from backoffice.core.four_eyes import Delegation as DomainDelegation
from backoffice.core.org import Period
from backoffice.core.payload import FieldType, money_of
from backoffice.core.processes import ProcessSpec
from backoffice.org.queries import display_names, who_words

__all__ = [
    "Outcome",
    "do_start_case",
    "pending_on_object",
    "do_command",
    "do_command_by_id",
    "do_create_delegation",
    "delegation_problem",
    "create_delegation",
    "do_end_delegation",
]


@dataclass
class Outcome:
    """What a command did: the case afterwards, or the denial (already recorded)."""

    case: Case | None
    denied: Denied | None = None
    events: list[CaseEvent] = field(default_factory=list)

    def raise_if_denied(self) -> Case:
        if self.denied is not None:
            errors = [{"field": f, "message": m} for f, m in self.denied.details]
            raise DomainError(self.denied.code, self.denied.message, errors=errors)
        assert self.case is not None
        return self.case


def _state(case: Case) -> dict[str, Any]:
    return {"status": case.status, "step": case.current_step, "payload_hash": case.payload_hash}


def _effect_problem(spec_effect: str | None, payload: Mapping[str, Any]) -> Denied | None:
    effect = get_effect(spec_effect)
    problem = effect.check(payload) if effect else None
    if problem is None:
        return None
    details = tuple((e.get("field", ""), e.get("message", "")) for e in problem.errors)
    return Denied(problem.code, problem.message, details)


def with_derived(spec: ProcessSpec, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The payload with its ``derived`` fields computed by the process's effect (a role
    grant's access risk); whatever a maker sent for them is replaced."""
    values = dict(payload or {})
    names = [f.name for f in spec.payload if f.derived]
    derive = getattr(get_effect(spec.effect), "derive", None)
    if names and derive is not None:
        derived = derive(values)
        values.update({name: derived.get(name) for name in names})
    return values


def do_start_case(
    actor: Actor,
    process_key: str,
    payload: Mapping[str, Any],
    *,
    submit: bool = False,
    comment: str = "",
) -> Outcome:
    """A maker starts a case (data acquisition); with ``submit`` it goes straight to checking.

    Start and submit are decided together and written at once (#14): a refused submission
    leaves no draft behind, only the record of its refusal.
    """
    process = live_processes().get(process_key)
    if process is None:
        raise DomainError("process.unknown", f"There is no process {process_key!r}.")
    spec = process.spec
    engine = engine_for(spec)
    with transaction.atomic():
        payload = with_derived(spec, payload)
        context = build_context(actor, known_for(spec, payload))
        command = Command(CommandKind.START, comment, payload)
        result = engine.decide(None, None, command, actor.facts, context, spec)
        if not isinstance(result, Denied):
            # #8: a read guard may refuse the data itself (a Chinese wall, a conflict of interest)
            result = guard_write(actor, process.key, result.case.payload) or result
        case = Case(
            process=process, definition=process.definition, maker=actor.user, title=process.name
        )
        refused_at = CommandKind.START
        if submit and isinstance(result, Accepted):
            refused_at = CommandKind.SUBMIT
            result = _submit_new(actor, case, result, comment)
        if isinstance(result, Denied):
            _record_start_denied(actor, process.key, result, refused_at)
            return Outcome(None, result)
        _remember(case, [])
        events = _persist(actor, case, result, before=None)
    return Outcome(case, None, events)


def pending_on_object(
    actor: Actor, process: Process, payload: Mapping[str, Any], *, other_than: int | None = None
) -> tuple[bool, Case | None]:
    """#19: whether a submitted case of ``process`` on the object ``payload`` names is open
    (a draft is its maker's unfinished work, not a request), and that case if the actor may
    see it (a refusal names nothing the asker may not know)."""
    values = process.spec.object_of(payload)
    if values is None:
        return False, None
    lookup = {f"payload__{name}": value for name, value in values.items()}
    cases = Case.objects.filter(process=process, **lookup)
    if other_than is not None:
        cases = cases.exclude(pk=other_than)
    pending = cases.exclude(status__in=CLOSED_STATUSES | {"draft"}).order_by("pk").first()
    if pending is None:
        return False, None
    return True, visible_cases(actor).filter(pk=pending.pk).first()


def _pending_on_object(actor: Actor, case: Case, payload: Mapping[str, Any]) -> Denied | None:
    """One open request per object (``one_open_per``): a second submission is refused and
    names the pending case when the asker may see it. The process row is locked first, so
    two concurrent submissions are decided one after the other."""
    if case.spec.object_of(payload) is None:
        return None
    list(Process.objects.select_for_update().filter(pk=case.process_id).values_list("pk"))
    found, pending = pending_on_object(actor, case.process, payload, other_than=case.pk)
    if not found:
        return None
    if pending is not None:
        message = f"A request on the same object is already open: case {pending.pk}."
        return Denied("case.pending", message)
    return Denied("case.pending", "A request on the same object is already open.")


def _submit_new(actor: Actor, case: Case, started: Accepted, comment: str) -> Accepted | Denied:
    """The submission of a case not yet written, decided on its started state."""
    spec = case.spec
    engine = engine_for(spec)
    current = started.case
    command = Command(CommandKind.SUBMIT, comment)
    engine.lock(case, current, command)
    context = build_context(actor, stored_known(spec, current.payload))
    result = engine.decide(case, current, command, actor.facts, context, spec)
    if isinstance(result, Accepted):
        result = _with_effects(actor, case, result) or result
    if isinstance(result, Denied):
        return result
    return Accepted((*started.events, *result.events), result.case)


def _record_start_denied(
    actor: Actor, process_key: str, denied: Denied, command: CommandKind
) -> None:
    if denied.code in FORM_ERRORS:  # #19: incomplete input is no refusal
        return
    record(
        "case.start_denied",
        actor=actor.person,
        object_type="process",
        object_id=process_key,
        after={"command": command.value, "code": denied.code, "message": denied.message},
    )


def do_command(actor: Actor, case: Case, command: Command) -> Outcome:
    """Apply one command to a case the actor was let see (``queries.access_case_by_id``), or
    record why it was refused. The case is locked and, if it changed since it was read,
    read again; who may see it is not asked again."""
    with transaction.atomic():
        _relock(case)
        return _command(actor, case, command)


def do_command_by_id(actor: Actor, case_id: int, command: Command) -> Outcome:
    """``do_command`` on the case with this id, read through the one checked path first
    (for callers that hold an id, not a case: seeds, the shell, tests)."""
    return do_command(actor, access_case_by_id(actor, case_id), command)


def _relock(case: Case) -> None:
    """Lock the case's row; a concurrent command may have changed it since it was read."""
    version = (
        Case.objects.select_for_update(of=("self",))
        .filter(pk=case.pk)
        .values_list("version", flat=True)
        .get()
    )
    if version != case.version:
        case.refresh_from_db()
        case.__dict__["_prefetched_objects_cache"] = {}
        prefetch_related_objects([case], Prefetch("events", CaseEvent.objects.order_by("seq")))


def _command(actor: Actor, case: Case, command: Command) -> Outcome:
    """``do_command`` inside its transaction, on the locked case."""
    current = domain_case(case)
    engine = engine_for(case.spec)
    engine.lock(case, current, command)
    if command.kind == CommandKind.AMEND:
        command = replace(command, payload=with_derived(case.spec, command.payload))
    known = (
        known_for(case.spec, command.payload)
        if command.kind == CommandKind.AMEND
        else stored_known(case.spec, current.payload)
    )
    context = build_context(actor, known, command.on_behalf_of)
    result = engine.decide(case, current, command, actor.facts, context, case.spec)
    if isinstance(result, Accepted):
        result = _with_effects(actor, case, result) or result
    if isinstance(result, Denied):
        return _deny(actor, case, command, result)
    events = _persist(actor, case, result, before=_state(case))
    if any(e.kind == "released" for e in result.events) and _affects(case, actor):
        actor.forget()  # the released effect changed the actor's own facts
    return Outcome(case, None, events)


def _affects(case: Case, actor: Actor) -> bool:
    """Whether a released case's effect may have changed the actor's own roles or units
    (an effect says so by ``affects``; one that does not say is taken to)."""
    effect = get_effect(case.spec.effect)
    if effect is None:
        return False
    affects = getattr(effect, "affects", None)
    return affects is None or bool(affects(case.payload, actor.person))


def _with_effects(actor: Actor, case: Case, result: Accepted) -> Denied | None:
    """Refuse a submit or release whose effect could not be carried out now, and an
    amendment a read guard refuses (#8: the new payload may name a conflicting issuer).

    An effect may also refuse the person (``check_actor``, optional): the policy change
    refuses a market person who would change the problem-loan criteria (PROC-1).
    """
    kinds = {e.kind for e in result.events}
    payload = result.case.payload
    if "amended" in kinds and (refused := guard_write(actor, case.process.key, payload)):
        return refused
    if "submitted" in kinds and (pending := _pending_on_object(actor, case, payload)):
        return pending
    if kinds & {"submitted", "released"}:
        problem = _effect_problem(case.spec.effect, payload)
        if problem is not None:
            return problem
    effect = get_effect(case.spec.effect)
    if not kinds & {"submitted", "approved", "released"}:
        return None
    check_actor = getattr(effect, "check_actor", None)
    denied: Denied | None = check_actor(payload, actor.facts) if check_actor else None
    # #17: an effect may also look at the case (research: the maker's position at release)
    check_case = getattr(effect, "check_case", None)
    if denied is None and check_case is not None:
        denied = check_case(case, payload, actor.facts)
    return denied


def _deny(actor: Actor, case: Case, command: Command, denied: Denied) -> Outcome:
    if denied.code in FORM_ERRORS:  # #19: incomplete input is no refusal; nothing recorded
        return Outcome(case, denied)
    audit = record(
        "case.denied",
        actor=actor.person,
        on_behalf_of=command.on_behalf_of or "",
        object_type="case",
        object_id=case.pk,
        after={"command": command.kind.value, "code": denied.code, "message": denied.message},
        reason=command.comment,
    )
    row = CaseEvent.objects.create(
        case=case,
        seq=_next_seq(case),
        at=audit.at,
        kind="denied",
        actor=actor.person,
        on_behalf_of=command.on_behalf_of or "",
        step=case.current_step,
        comment=command.comment,
        data={"command": command.kind.value, "code": denied.code, "message": denied.message},
        audit_seq=audit.seq,
    )
    _remember(case, [row])
    return Outcome(case, denied)


def _title(spec: ProcessSpec, payload: Mapping[str, Any], default: str) -> str:
    """The case's title: its ``title`` field, a person, role or unit by name (#19: "Payment
    releaser", not "payment-releaser"); written once per change, so lists read no names."""
    assert spec.title is not None
    value = str(payload.get(spec.title) or "")
    if not value:
        return default[:200]
    field_spec = spec.field(spec.title)
    kind = field_spec.type if field_spec else None
    if kind == FieldType.PERSON:
        value = display_names().get(value, value)
    elif kind in (FieldType.ROLE, FieldType.UNIT):
        value = who_words().get(f"{kind.value}:{value}", value)
    return value[:200]


def _next_seq(case: Case) -> int:
    return max((e.seq for e in case.events.all()), default=0) + 1


def _remember(case: Case, rows: list[CaseEvent]) -> None:
    """Keep the loaded case's events current without reading them again."""
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    events = cache.get("events")
    if events is None:
        events = CaseEvent.objects.filter(case_id=case.pk).order_by("seq")
        events._result_cache = []
        events._prefetch_done = True  # type: ignore[attr-defined]  # as Django's prefetch does
        cache["events"] = events
    events._result_cache.extend(rows)
    case.__dict__.pop("_domain", None)  # replayed again when asked (a denial adds an event)


def _persist(
    actor: Actor, case: Case, result: Accepted, before: dict[str, Any] | None
) -> list[CaseEvent]:
    """Write the new events, the projection and one audit event per case event."""
    after_case = result.case
    case.status = after_case.status.value
    case.current_step = after_case.step or ""
    case.payload = dict(after_case.payload)
    case.payload_hash = after_case.payload_hash
    spec = case.spec
    if spec.amount:
        money = money_of(after_case.payload.get(spec.amount))
        case.amount, case.currency = (money.amount, money.currency) if money else (None, "")
    if spec.title:
        case.title = _title(spec, after_case.payload, case.title)
    if spec.aggregate is not None:
        case.aggregate_key = aggregate_key(after_case.payload.get(spec.aggregate.by) or "")[:300]
    if before is not None:
        case.version += 1
    case.save()
    seq = _next_seq(case)
    entries = [
        Entry(
            f"case.{event.kind}",
            event.actor,
            "case",
            case.pk,
            before=before,
            after=_event_after(event, case),
            reason=event.comment,
            on_behalf_of=event.on_behalf_of or "",
        )
        for event in result.events
    ]
    if any(event.kind == "released" for event in result.events):
        entries += _apply_effect(case, actor.person)
    # one append to the chain for the command, its effect and the effect's own events
    audits = record_all(entries)
    rows = CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            seq=seq + offset,
            at=audit.at,
            kind=event.kind,
            actor=event.actor,
            on_behalf_of=event.on_behalf_of or "",
            step=event.step or "",
            payload_hash=event.payload_hash or "",
            payload=dict(event.payload) if event.payload is not None else None,
            comment=event.comment,
            board=event.board,
            tier=event.tier,
            data=dict(event.data),
            audit_seq=audit.seq,
        )
        for offset, (event, audit) in enumerate(zip(result.events, audits, strict=False))
    )
    _remember(case, rows)
    case.__dict__["_domain"] = (case.version, after_case)
    engine_for(spec).after_persist(case, result, actor.person)
    return rows


def _event_after(event: Event, case: Case) -> dict[str, Any]:
    after: dict[str, Any] = _state(case) | {"process": case.process.key}
    if event.step:
        after["on_step"] = event.step
    if event.payload is not None:
        after["payload"] = dict(event.payload)
    if event.tier:
        after["tier"] = event.tier
    if event.data:
        after["data"] = dict(event.data)
    return after


def _apply_effect(case: Case, actor: str) -> list[Entry]:
    """Carry out a released case's effect; its events and the record of what it did are
    returned for the command's one append to the chain."""
    effect = get_effect(case.spec.effect)
    if effect is None:
        return []
    with collecting() as entries:
        outcome = effect.apply(case, actor=actor)
    reason = f"released case {case.pk}"
    action = f"case.effect.{case.spec.effect}"
    return [*entries, Entry(action, actor, "case", case.pk, after=outcome, reason=reason)]


# -- delegations ------------------------------------------------------------------------


def _refuse_delegation(code: str, message: str, *, actor: Actor, substitute: str) -> NoReturn:
    do_refuse(
        code,
        message,
        action="case.delegation.denied",
        user=actor.user,
        object_type="delegation",
        object_id=f"{actor.person}->{substitute}"[:150],
    )


def delegation_problem(
    principal: Any, substitute: Any, valid_from: date, valid_to: date, *, approved: bool = False
) -> tuple[str, str] | None:
    """The first rule a new delegation breaks, as ``(code, message)``, or None.

    Nobody is their own substitute (usernames compared without case); the period ends after
    it starts; no loop back to the principal; and (#13) acting for the principal may not
    give the substitute a critical access risk, nor a high one unless compliance approves
    (``approved``: the ``delegation`` case) where the policy allows it.
    """
    if substitute.pk == principal.pk or same_person(substitute.username, principal.username):
        return "delegation.invalid", "You cannot be your own substitute."
    if valid_to <= valid_from:
        return "delegation.invalid", "A delegation must end after it starts."
    # Conservative: every delegation overlapping the new period counts as active at once.
    period = Period(valid_from, valid_to)
    overlapping = tuple(
        DomainDelegation(d.principal.username, d.substitute.username, period)
        for d in Delegation.objects.filter(ended_at__isnull=True).select_related(
            "principal", "substitute"
        )
        if d.period.overlaps(period)
    )
    context = Context(today=valid_from, delegations=overlapping)
    if resolve_chain(substitute.username, principal.username, context):
        return (
            "delegation.loop",
            f"{substitute.username} already delegates back to {principal.username}; "
            "a delegation loop would let people act for themselves.",
        )
    start = max(valid_from, timezone.localdate())
    for check in _DELEGATION_CHECKS:
        if problem := check(principal, substitute, start, valid_to, approved):
            return problem
    return None


#: ``check(principal, substitute, start, end, approved) -> (code, message) | None``
DelegationCheck = Callable[[Any, Any, date, date, bool], tuple[str, str] | None]
_DELEGATION_CHECKS: list[DelegationCheck] = []


def register_delegation_check(check: DelegationCheck) -> None:
    """Another app's rule on who may stand in for whom (``access``: #13, acting for someone
    adds their functions to one's own), asked for every new delegation."""
    _DELEGATION_CHECKS.append(check)


def do_create_delegation(
    actor: Actor, substitute_username: str, valid_from: date, valid_to: date, *, reason: str
) -> Delegation:
    """The actor names a substitute for a period (only for themselves).

    Refused, and the refusal recorded: delegating to oneself, a loop, and (#13) a
    substitute who would combine their own functions with the principal's into a critical
    or high access risk — a high one goes to compliance in a ``delegation`` case when the
    policy says so (``access.delegation.high: compliance``).
    """
    principal = actor.user
    if same_person(substitute_username, actor.person):
        _refuse_delegation(
            "delegation.invalid",
            "You cannot be your own substitute.",
            actor=actor,
            substitute=substitute_username,
        )
    substitute = (
        get_user_model().objects.filter(username=substitute_username, is_active=True).first()
    )
    if substitute is None:
        raise DomainError(
            "delegation.invalid", f"There is no active person {substitute_username!r}."
        )
    problem = delegation_problem(principal, substitute, valid_from, valid_to)
    if problem is not None:
        _refuse_delegation(*problem, actor=actor, substitute=substitute.username)
    with transaction.atomic():
        row = create_delegation(
            principal, substitute, valid_from, valid_to, reason=reason, created_by=actor.person
        )
    actor.forget()
    return row


def create_delegation(
    principal: Any,
    substitute: Any,
    valid_from: date,
    valid_to: date,
    *,
    reason: str,
    created_by: str,
    case: Case | None = None,
    approved_risks: list[str] | None = None,
) -> Delegation:
    """Store a delegation that met the rules and put it on record (caller's transaction)."""
    row = Delegation.objects.create(
        principal=principal,
        substitute=substitute,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=reason,
        created_by=created_by,
        case=case,
        approved_risks=sorted(approved_risks or []),
    )
    after: dict[str, Any] = {
        "principal": principal.username,
        "substitute": substitute.username,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "reason": reason,
    }
    if case is not None:
        after |= {"case": case.pk, "approved_risks": row.approved_risks}
    record(
        "case.delegation.created",
        actor=created_by,
        object_type="delegation",
        object_id=row.pk,
        after=after,
    )
    return row


def do_end_delegation(actor: Actor, delegation_id: int) -> Delegation:
    """The principal ends a delegation before its time."""
    with transaction.atomic():
        row = (
            Delegation.objects.select_for_update()
            .filter(pk=delegation_id, principal_id=actor.pk, ended_at__isnull=True)
            .first()
        )
        if row is None:
            raise DomainError(
                "delegation.not_found", f"You have no active delegation {delegation_id}."
            )
        row.ended_at = timezone.now()
        row.save(update_fields=["ended_at", "last_updated"])
        record(
            "case.delegation.ended",
            actor=actor.person,
            object_type="delegation",
            object_id=row.pk,
            before={"ended": False},
            after={"ended": True},
        )
    actor.forget()
    return row
