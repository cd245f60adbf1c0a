"""Access governance for people who ask: what-if simulations and the mitigation report.

Authorisation is here, not in the views: reading access risks needs ``access.risk.read``;
anyone else is refused with ``access.forbidden``, and the refusal is on record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backoffice.access.effects import period_view
from backoffice.access.models import EmergencySession, Mitigation, Role
from backoffice.access.queries import (
    EMERGENCY_ORDER,
    EXPIRING_DAYS,
    get_access_rules,
    get_emergency_sessions,
    get_grant_assessment_over,
    get_held_roles,
    get_mitigated_risks,
    get_mitigations,
)
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import do_refuse, record
from backoffice.base.actor import Actor
from backoffice.base.context import forget
from backoffice.base.pages import PAGE_SIZE, Page, keyset
from backoffice.core.access import assess_grant
from backoffice.core.accessrisk import UnknownRole
from backoffice.core.emergency import (
    REVIEW_PERMISSION,
    EmergencySpec,
    review_due,
    review_refusal,
    session_state,
    start_refusal,
    tag,
)
from backoffice.core.errors import DomainError
from backoffice.core.roles import expand_roles

__all__ = [
    "READ_PERMISSION",
    "may_read_access",
    "access_risks",
    "get_simulation",
    "MITIGATION_ORDER",
    "MitigationReport",
    "get_mitigation_report",
    "EMERGENCY_STATUSES",
    "do_start_emergency",
    "do_end_emergency",
    "do_review_emergency",
    "access_emergency",
    "may_see_emergency",
    "emergency_roles_of",
    "own_running_sessions",
    "EmergencyReport",
    "get_emergency_report",
    "get_emergency_log",
]

READ_PERMISSION = "access.risk.read"


def may_read_access(actor: Actor) -> bool:
    return READ_PERMISSION in actor.permissions


def access_risks(actor: Actor, what: str) -> None:
    """Refuse (and record) anyone without ``access.risk.read``."""
    if may_read_access(actor):
        return
    do_refuse(
        "access.forbidden",
        f"Only compliance, audit and administrators may see {what}.",
        action="access.denied",
        user=actor.user,
        object_type="access",
        object_id=what,
    )


def get_simulation(
    actor: Actor,
    person: str,
    add: list[str],
    remove: list[str],
    day: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """What-if (#6): the risks ``person`` gains and loses with ``add`` and without ``remove``,
    each with the roles and permissions behind it, and any SSD constraint it would break.

    Judged as a grant is (#13): from ``day`` until ``until`` (open-ended without), on every
    day the person's other assignments or mitigations change; the worst day is shown."""
    access_risks(actor, "access simulations")
    rules = get_access_rules()
    if rules is None:
        raise DomainError("access.unknown_risk", "The live policy has no access rules.")
    subject = get_user_model().objects.filter(username=person).first()
    if subject is None:
        raise DomainError(
            "access.unknown_person",
            f"There is no person {person!r}.",
            errors=[{"field": "person", "message": "unknown person"}],
        )
    day = day or timezone.localdate()
    try:
        period = get_grant_assessment_over(subject, add, day, until, remove)
    except UnknownRole as exc:
        raise DomainError(
            "access.unknown_role",
            f"There is no role {exc.role_id!r}.",
            errors=[
                {
                    "field": "add_roles" if exc.role_id in add else "remove_roles",
                    "message": "unknown role",
                }
            ],
        ) from None
    assert period is not None
    refusal = period.refusal
    worst = period.worst.day
    held = sorted(get_held_roles(subject, worst))
    return {
        "person": person,
        "as_of": day,
        "until": until,
        "roles_before": held,
        "roles_after": sorted((set(held) | set(add)) - set(remove)),
        **period_view(period, rules),
        "unmitigated_risk": period.risk,
        "verdict": refusal[0]
        if refusal
        else ("second_level" if period.risk != "none" else "clear"),
        "message": refusal[1] if refusal else "",
    }


#: soonest end first, then by person and risk; the pk orders one person's controls of a risk
MITIGATION_ORDER = ("valid_until", "person__username", "risk", "pk")


@dataclass(frozen=True)
class MitigationReport:
    """The mitigations of one status, read a page at a time (API, page) or all (CSV).

    It holds the query, not the rows: the list grows with every mitigation ever granted.
    """

    records: QuerySet[Mitigation]
    day: date
    risk_names: dict[str, str]

    def row(self, m: Mitigation) -> dict[str, Any]:
        """A mitigation with its risk's name and its state on ``day``."""
        return m.as_record() | {
            "risk_name": self.risk_names.get(m.risk, ""),
            "state": _state(m.valid_from, m.valid_until, self.day),
            "case": m.case_id,
        }

    def page(self, after: str | None, limit: int = PAGE_SIZE) -> Page[dict[str, Any]]:
        """The ``limit`` rows after the cursor ``after`` (a bad cursor: ``input.invalid``)."""
        return self.shown(keyset(self.records, MITIGATION_ORDER, after, limit))

    def shown(self, page: Page[Mitigation]) -> Page[dict[str, Any]]:
        return Page([self.row(m) for m in page.items], page.next)

    def all_rows(self) -> Iterator[dict[str, Any]]:
        """Every row in order, read in chunks while the caller writes them out."""
        for m in self.records.order_by(*MITIGATION_ORDER).iterator(chunk_size=500):
            yield self.row(m)


def get_mitigation_report(
    actor: Actor, status: str = "all", day: date | None = None
) -> MitigationReport:
    """Mitigations with their state on ``day`` (active, expiring within 30 days, expired).

    The check is made here, before any row is read, so a refusal is an answer of its own and
    never the middle of a streamed download."""
    access_risks(actor, "mitigations")
    day = day or timezone.localdate()
    rules = get_access_rules()
    names = {k: r.name for k, r in rules.risks.items()} if rules else {}
    return MitigationReport(get_mitigations(status, day), day, names)


def _state(start: date, until: date, day: date) -> str:
    if until < day:
        return "expired"
    if start > day:
        return "future"
    return "expiring" if (until - day).days < EXPIRING_DAYS else "active"


# -- #15 part 2: emergency access (break-glass, firefighter) ---------------------------------

#: the longest reason a session takes (it is on the chain with every event)
MAX_REASON = 2000
EMERGENCY_STATUSES = ("all", "active", "unreviewed", "overdue", "reviewed")


def _emergency_spec() -> EmergencySpec | None:
    rules = get_access_rules()
    return rules.spec.emergency if rules is not None else None


def _emergency_refuse(actor: Actor, code: str, message: str, object_id: str | int) -> NoReturn:
    do_refuse(
        code,
        message,
        action="access.emergency.denied",
        user=actor.user,
        object_type="emergency",
        object_id=object_id,
    )


def _text(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_REASON:
        raise DomainError(
            "emergency.invalid",
            f"{field}: give one (at most {MAX_REASON} characters).",
            errors=[{"field": field, "message": "required, at most 2000 characters"}],
        )
    return text


def do_start_emergency(actor: Actor, role: str, minutes: int, reason: str) -> EmergencySession:
    """EMERG-1/-3: ``actor`` takes ``role`` now for ``minutes``, because the policy lists
    them for it; anyone else is refused (and told to ask through a role-grant case). The
    role holds until the session's end, judged at every check (EMERG-2)."""
    reason = _text(reason, "reason")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise DomainError(
            "emergency.invalid",
            "minutes: a whole number of minutes, at least 1.",
            errors=[{"field": "minutes", "message": "at least 1"}],
        )
    spec = _emergency_spec()
    rules = get_access_rules()
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=actor.pk)  # one at a time
        role_row = Role.objects.filter(key=role, retired_at__isnull=True).first()
        if role_row is None or rules is None or not rules.knows(role):
            raise DomainError(
                "access.unknown_role",
                f"There is no role {role!r}.",
                errors=[{"field": "role", "message": "unknown role"}],
            )
        now = timezone.now()
        running = list(
            EmergencySession.objects.filter(
                person=user, started_at__lte=now, ends_at__gt=now
            ).values_list("role__key", flat=True)
        )
        today = timezone.localdate(now)
        assigned = get_held_roles(user, today) | set(running)
        mitigated = get_mitigated_risks(user, today)
        assessment = assess_grant(rules, assigned, [role], (), mitigated)
        refusal = start_refusal(
            spec,
            actor.person,
            role,
            minutes,
            held=expand_roles(assigned, rules.contains),
            critical_risks=[r.risk for r in assessment.critical],
            active_roles=running,
        )
        if refusal is None:
            assert spec is not None
            ends_at = now + timedelta(minutes=minutes)
            session = EmergencySession.objects.create(
                person=user,
                role=role_row,
                reason=reason,
                started_at=now,
                planned_end=ends_at,
                ends_at=ends_at,
                review_due=review_due(ends_at, spec.review_days),
            )
            forget(f"emergency_session:{actor.person}")
            record(
                "access.emergency.started",
                actor=actor.person,
                object_type="emergency",
                object_id=session.pk,
                after=session.as_record(),
                reason=f"{tag(session.pk)} {reason}",
            )
    if refusal is not None:
        _emergency_refuse(actor, refusal.code, refusal.message, role)
    actor.forget()
    return session


def _session(session_id: int | str) -> EmergencySession:
    try:
        pk = int(session_id)
    except (TypeError, ValueError):
        pk = -1
    found = (
        EmergencySession.objects.select_related("person", "role", "reviewed_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise DomainError(
            "emergency.not_found",
            f"There is no emergency session {session_id}.",
            errors=[{"field": "session", "message": "unknown session"}],
        )
    return found


def _is_controller(actor: Actor) -> bool:
    spec = _emergency_spec()
    permission = spec.reviewer_permission if spec is not None else REVIEW_PERMISSION
    return permission in actor.permissions


def do_end_emergency(actor: Actor, session_id: int | str) -> EmergencySession:
    """End a running session now: its person (done early) or a controller. An ended one
    stays as it was (ending twice changes nothing)."""
    session = _session(session_id)
    if session.person_id != actor.pk and not _is_controller(actor):
        _emergency_refuse(
            actor,
            "emergency.forbidden",
            "Only the session's person or a controller ends an emergency session.",
            session.pk,
        )
    with transaction.atomic():
        session = EmergencySession.objects.select_for_update().get(pk=session.pk)
        now = timezone.now()
        if session.ends_at <= now:
            return _session(session.pk)
        before = session.as_record()
        session.ends_at = max(now, session.started_at)
        session.ended_by = actor.person
        spec = _emergency_spec()
        days = spec.review_days if spec is not None else 3
        session.review_due = review_due(session.ends_at, days)
        session.save(update_fields=["ends_at", "ended_by", "review_due", "last_updated"])
        forget(f"emergency_session:{session.person.username}")
        record(
            "access.emergency.ended",
            actor=actor.person,
            object_type="emergency",
            object_id=session.pk,
            before=before,
            after=session.as_record(),
            reason=f"{tag(session.pk)} ended early",
        )
    actor.forget()
    return session


def do_review_emergency(actor: Actor, session_id: int | str, note: str) -> EmergencySession:
    """EMERG-4: a controller who is not the person reviews an ended session's log."""
    note = _text(note, "note")
    session = _session(session_id)
    spec = _emergency_spec()
    permission = spec.reviewer_permission if spec is not None else REVIEW_PERMISSION
    refusal = review_refusal(session.person.username, actor.person, actor.permissions, permission)
    if refusal is not None:
        _emergency_refuse(actor, refusal.code, refusal.message, session.pk)
    with transaction.atomic():
        session = EmergencySession.objects.select_for_update().get(pk=session.pk)
        now = timezone.now()
        problem: tuple[str, str] | None = None
        if session.ends_at > now:
            problem = (
                "emergency.still_active",
                f"Emergency session {session.pk} runs until {session.ends_at:%Y-%m-%d %H:%M}: "
                "its log is reviewed once it has ended (EMERG-4).",
            )
        elif session.reviewed_at is not None:
            problem = ("emergency.already_reviewed", f"Session {session.pk} has been reviewed.")
        else:
            before = session.as_record()
            session.reviewed_by = actor.user
            session.reviewed_at = now
            session.review_note = note
            session.save(
                update_fields=["reviewed_by", "reviewed_at", "review_note", "last_updated"]
            )
            record(
                "access.emergency.reviewed",
                actor=actor.person,
                object_type="emergency",
                object_id=session.pk,
                before=before,
                after=session.as_record(),
                reason=note,
            )
    if problem is not None:
        raise DomainError(*problem)
    return _session(session.pk)


def may_see_emergency(actor: Actor) -> bool:
    """Controllers and access-risk readers see every session and its log."""
    return _is_controller(actor) or may_read_access(actor)


def emergency_roles_of(actor: Actor) -> list[str]:
    """The roles the live policy lets ``actor`` take in an emergency (EMERG-1)."""
    spec = _emergency_spec()
    if spec is None:
        return []
    return sorted(r.role for r in spec.roles if actor.person in r.people)


def own_running_sessions(actor: Actor) -> list[EmergencySession]:
    """``actor``'s sessions running now (to end one early)."""
    now = timezone.now()
    return list(
        EmergencySession.objects.select_related("role")
        .filter(person_id=actor.pk, started_at__lte=now, ends_at__gt=now)
        .order_by("ends_at", "pk")
    )


def access_emergency(actor: Actor, what: str) -> None:
    """Emergency sessions and their logs are read by controllers and access-risk readers."""
    if may_see_emergency(actor):
        return
    _emergency_refuse(
        actor, "emergency.forbidden", f"Only controllers may see {what}.", "emergency"
    )


@dataclass(frozen=True)
class EmergencyReport:
    """Emergency sessions of one status at ``now``, a page at a time or all (CSV)."""

    records: QuerySet[EmergencySession]
    now: datetime

    def row(self, s: EmergencySession) -> dict[str, Any]:
        state = session_state(
            s.started_at, s.ends_at, s.reviewed_at is not None, s.review_due, self.now
        )
        return s.as_record() | {"state": state}

    def page(self, after: str | None, limit: int = PAGE_SIZE) -> Page[dict[str, Any]]:
        return self.shown(keyset(self.records, EMERGENCY_ORDER, after, limit))

    def shown(self, page: Page[EmergencySession]) -> Page[dict[str, Any]]:
        return Page([self.row(s) for s in page.items], page.next)

    def all_rows(self) -> Iterator[dict[str, Any]]:
        for s in self.records.order_by(*EMERGENCY_ORDER).iterator(chunk_size=500):
            yield self.row(s)


def get_emergency_report(actor: Actor, status: str = "all") -> EmergencyReport:
    """EMERG-4: sessions by status; ``overdue`` are those no controller reviewed in time."""
    access_emergency(actor, "emergency sessions")
    if status not in EMERGENCY_STATUSES:
        raise DomainError(
            "input.invalid",
            f"status: one of {', '.join(EMERGENCY_STATUSES)}, not {status!r}.",
            errors=[{"field": "status", "message": "unknown status"}],
        )
    now = timezone.now()
    return EmergencyReport(get_emergency_sessions(status, now), now)


def get_emergency_log(actor: Actor, session_id: int | str) -> tuple[EmergencySession, list[Any]]:
    """What was done under the session: the audit events tagged with it (EMERG-2), in
    chain order. The controller reviews this."""
    access_emergency(actor, "emergency session logs")
    session = _session(session_id)
    events = list(
        AuditEvent.objects.filter(
            actor=session.person.username,
            at__gte=session.started_at,
            reason__startswith=tag(session.pk),
        ).order_by("seq")
    )
    return session, events
