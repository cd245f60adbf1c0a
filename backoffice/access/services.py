"""Access governance for people who ask: what-if simulations and the mitigation report.

Authorisation is here, not in the views: reading access risks needs ``access.risk.read``;
anyone else is refused with ``access.forbidden``, and the refusal is on record.
"""

from __future__ import annotations

import bisect
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from typing_extensions import override

from backoffice.access.effects import period_view
from backoffice.access.models import (
    ActiveRole,
    EmergencySession,
    Mitigation,
    ReviewCampaign,
    ReviewItem,
    Role,
    RoleAssignment,
)
from backoffice.access.queries import (
    EMERGENCY_ORDER,
    EXPIRING_DAYS,
    get_access_rules,
    get_activated_roles,
    get_emergency_sessions,
    get_grant_assessment_over,
    get_held_roles,
    get_mitigated_risks,
    get_mitigations,
    session_roles,
)
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import do_refuse, record
from backoffice.base.actor import Actor
from backoffice.base.context import forget
from backoffice.base.pages import Page, RecordPages, decode_cursor, encode_cursor
from backoffice.base.sorting import Sorting
from backoffice.cases.models import Delegation
from backoffice.cases.services import do_start_case
from backoffice.core.access import assess_grant
from backoffice.core.accessrisk import UnknownRole
from backoffice.core.dsd import DsdSpec, judge_activation
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
from backoffice.core.org import MembershipRole
from backoffice.core.recert import (
    RecertSpec,
    criticality_of,
    delegation_related,
    is_overdue,
    manager_chain,
    recert_due,
    reviewer_for,
    rubber_stamps,
    supports_critical_function,
    suspends_on,
)
from backoffice.core.roles import expand_roles
from backoffice.org.models import Membership, Responsibility, Unit
from backoffice.org.queries import derived_from_live_policy

__all__ = [
    "READ_PERMISSION",
    "may_read_access",
    "access_risks",
    "get_simulation",
    "MITIGATION_ORDER",
    "MITIGATION_SORTING",
    "REVIEW_SORTING",
    "EMERGENCY_SORTING",
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
    "REVIEW_START_PERMISSION",
    "REVIEW_STATUSES",
    "ReviewStart",
    "ReviewReport",
    "get_recert_spec",
    "do_start_review",
    "do_decide_review",
    "get_review_report",
    "get_review_summary",
    "count_overdue_reviews",
    "overdue_reviews_in_inbox",
    "ActualConflicts",
    "AccessRisks",
    "RISK_LEVELS",
    "get_access_risks",
    "get_actual_conflicts",
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

#: #19: the mitigation list's sortable columns (the page and its download)
MITIGATION_SORTING = Sorting(
    Mitigation,
    {
        "person": ("person__username",),
        "risk": ("risk",),
        "control": ("control",),
        "owner": ("owner__username",),
        "monitor": ("monitor__username",),
        "valid_until": ("valid_until",),
        "case": ("case_id",),
    },
    MITIGATION_ORDER,
)


@dataclass(frozen=True)
class MitigationReport(RecordPages):
    """The mitigations of one status, read a page at a time (API, page) or all (CSV).

    It holds the query, not the rows: the list grows with every mitigation ever granted.
    """

    records: QuerySet[Mitigation]
    day: date
    risk_names: dict[str, str]
    order = MITIGATION_ORDER

    @override
    def row(self, m: Mitigation) -> dict[str, Any]:
        """A mitigation with its risk's name and its state on ``day``."""
        return m.as_record() | {
            "risk_name": self.risk_names.get(m.risk, ""),
            "state": _state(m.valid_from, m.valid_until, self.day),
            "case": m.case_id,
        }


def get_mitigation_report(
    actor: Actor, status: str = "all", day: date | None = None, within: int | None = None
) -> MitigationReport:
    """Mitigations with their state on ``day`` (active, expiring within 30 days, expired).

    The check is made here, before any row is read, so a refusal is an answer of its own and
    never the middle of a streamed download."""
    access_risks(actor, "mitigations")
    day = day or timezone.localdate()
    rules = get_access_rules()
    names = {k: r.name for k, r in rules.risks.items()} if rules else {}
    return MitigationReport(get_mitigations(status, day, within), day, names)


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
class EmergencyReport(RecordPages):
    """Emergency sessions of one status at ``now``, a page at a time or all (CSV)."""

    records: QuerySet[EmergencySession]
    now: datetime
    order = EMERGENCY_ORDER

    @override
    def row(self, s: EmergencySession) -> dict[str, Any]:
        state = session_state(
            s.started_at, s.ends_at, s.reviewed_at is not None, s.review_due, self.now
        )
        return s.as_record() | {"state": state}


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


# -- #15 recertification (RECERT-1, RECERT-2; docs/access.md) -------------------------------

REVIEW_START_PERMISSION = "access.review.start"
#: how far from today a campaign's day may lie (a replay of the past, a dry run ahead)
MAX_AS_OF_DAYS = 3653
#: what the report and the API filter by; ``overdue`` is open and past its due date
REVIEW_STATUSES = ("all", "open", "overdue", "kept", "revoked", "decided")
#: the soonest due first, then by holder and role; the pk orders the rest
REVIEW_ORDER = ("due", "holder__username", "assignment__role__key", "pk")

#: #19: the sortable columns of the access reviews and of the emergency sessions
REVIEW_SORTING = Sorting(
    ReviewItem,
    {
        "person": ("holder__username",),
        "role": ("assignment__role__key",),
        "class": ("criticality",),
        "reviewer": ("reviewer__username",),
        "unit": ("unit",),
        "due": ("due",),
        "state": ("status",),
    },
    REVIEW_ORDER,
)
EMERGENCY_SORTING = Sorting(
    EmergencySession,
    {
        "session": ("pk",),
        "person": ("person__username",),
        "role": ("role__key",),
        "started": ("started_at",),
        "ends": ("ends_at",),
        "review_due": ("review_due",),
    },
    EMERGENCY_ORDER,
    descending_first=frozenset({"session", "started"}),
)


def get_recert_spec() -> RecertSpec | None:
    """The live policy's ``recertification`` section (None: it has none)."""
    return derived_from_live_policy("recertification", lambda policy: policy.recertification)


def _spec() -> RecertSpec:
    spec = get_recert_spec()
    if spec is None:
        raise DomainError("review.no_policy", "The live policy has no recertification section.")
    return spec


@dataclass(frozen=True)
class ReviewStart:
    """What a campaign made: its items, and the assignments nobody may review (named so
    that someone sees to them)."""

    campaign: ReviewCampaign | None
    items: int
    unassigned: list[str]


def _delegations(day: date) -> list[tuple[str, str]]:
    """``(principal, substitute)`` of every delegation current on ``day`` or coming."""
    return list(
        Delegation.objects.filter(valid_to__gt=day, ended_at__isnull=True).values_list(
            "principal__username", "substitute__username"
        )
    )


class _Org:
    """The units, heads, board responsibilities and delegations of one day, read once for a
    whole campaign."""

    def __init__(self, day: date) -> None:
        active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        self.parent = dict(Unit.objects.values_list("key", "parent__key"))
        self.units: dict[str, list[str]] = {}
        self.heads: dict[str, list[str]] = {}
        # RECERT-1: who moved — their latest membership today began after their first one
        first = dict(
            Membership.objects.values("user__username")
            .annotate(first=Min("valid_from"))
            .order_by()
            .values_list("user__username", "first")
        )
        self.moved: dict[str, date] = {}
        rows = Membership.objects.filter(active, unit__retired_at__isnull=True).order_by(
            "valid_from", "unit__key", "pk"
        )
        for person, unit, role, start in rows.values_list(
            "user__username", "unit__key", "role", "valid_from"
        ):
            self.units.setdefault(person, []).append(unit)
            if role == MembershipRole.HEAD.value:
                self.heads.setdefault(unit, []).append(person)
            if start > first[person]:
                self.moved[person] = start  # rows come in start order: the last is the latest
        self.responsible: dict[str, list[str]] = {}
        for person, unit in Responsibility.objects.filter(active).values_list(
            "user__username", "unit__key"
        ):
            self.responsible.setdefault(unit, []).append(person)
        self.delegations = _delegations(day)

    def managers(self, person: str) -> list[str]:
        return manager_chain(
            person, self.units.get(person, []), self.parent, self.heads, self.responsible
        )

    def unit(self, person: str) -> str:
        return next(iter(self.units.get(person, [])), "")


def _last_kept() -> dict[int, date]:
    """RECERT-1: the day each assignment was last kept in a review (only those ever kept)."""
    kept = (
        ReviewItem.objects.filter(status=ReviewItem.KEPT)
        .values("assignment_id")
        .annotate(last=Max("decided_at"))
        .order_by()
    )
    return {row["assignment_id"]: timezone.localdate(row["last"]) for row in kept.iterator()}


def _under_review() -> set[int]:
    """Assignments with an open item, or revoked with the revocation case still running."""
    busy = ReviewItem.objects.filter(
        Q(status=ReviewItem.OPEN)
        | Q(status=ReviewItem.REVOKED, case__status__in=["draft", "submitted", "returned"])
    )
    return set(busy.values_list("assignment_id", flat=True).iterator())


def do_start_review(actor: Actor | str, *, day: date | None = None) -> ReviewStart:
    """A campaign: one item per assignment held on ``day`` whose recertification is due by
    ``day + review_days``, sent to the reviewer the policy names. Every item is due at the
    campaign's end, so each reviewer has the policy's ``review_days``.

    ``actor`` is a person (API, page: needs ``access.review.start``) or the shell. The
    assignments are streamed; only the few people who can review (unit heads, board
    members, role owners) are held in memory with their roles."""
    if isinstance(actor, Actor) and REVIEW_START_PERMISSION not in actor.permissions:
        do_refuse(
            "review.forbidden",
            "Only compliance may start an access review.",
            action="access.review.denied",
            user=actor.user,
            object_type="review",
            object_id="start",
        )
    who = actor.person if isinstance(actor, Actor) else actor
    spec = _spec()
    today = timezone.localdate()
    day = day or today
    if abs((day - today).days) > MAX_AS_OF_DAYS:
        raise DomainError(
            "review.invalid",
            f"A campaign's day lies within ten years of today, not {day.isoformat()}.",
            errors=[{"field": "as_of", "message": "more than ten years from today"}],
        )
    due = day + timedelta(days=spec.review_days)
    org = _Org(day)
    active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    candidates = {
        *(p for people in org.heads.values() for p in people),
        *(p for people in org.responsible.values() for p in people),
        *spec.owners.values(),
    }
    reviewers = dict(
        get_user_model()
        .objects.filter(username__in=candidates, is_active=True)
        .values_list("username", "pk")
    )
    # RECERT-1: nobody reviews a role they hold themselves
    holding: dict[str, set[str]] = {}
    for person, role in RoleAssignment.objects.filter(
        active, user__username__in=reviewers
    ).values_list("user__username", "role__key"):
        holding.setdefault(role, set()).add(person)
    related: dict[str, set[str]] = {}
    with transaction.atomic():
        kept, busy = _last_kept(), _under_review()
        campaign = ReviewCampaign.objects.create(started_by=who, as_of=day, due=due)
        held = (
            RoleAssignment.objects.filter(
                active, role__retired_at__isnull=True, user__is_active=True
            )
            .order_by("user__username", "role__key", "valid_from")
            .values_list("pk", "user_id", "user__username", "role__key", "valid_from")
        )
        batch: list[ReviewItem] = []
        made = 0
        unassigned: list[str] = []
        for pk, holder_id, holder, role, start in held.iterator(chunk_size=2000):
            if pk in busy:
                continue
            when, moved = recert_due(
                spec, role, max(kept.get(pk, start), start), org.moved.get(holder)
            )
            if when > due:
                continue
            managers = [m for m in org.managers(holder) if m in reviewers]
            if holder not in related:
                related[holder] = delegation_related(holder, org.delegations)
            excluded = related[holder] | holding.get(role, set())
            reviewer = reviewer_for(spec, holder, role, managers, excluded)
            if reviewer is None or reviewer not in reviewers:
                unassigned.append(f"{holder}/{role}/{start.isoformat()}")
                continue
            criticality = criticality_of(spec, role)
            batch.append(
                ReviewItem(
                    campaign=campaign,
                    assignment_id=pk,
                    holder_id=holder_id,
                    reviewer_id=reviewers[reviewer],
                    manager_id=reviewers[managers[0]] if managers else None,
                    unit=org.unit(holder),
                    criticality=criticality,
                    critical_function=supports_critical_function(spec, role),
                    trigger="transfer" if moved else "period",
                    due=due,
                    suspends_on=suspends_on(spec, criticality, due),
                )
            )
            if len(batch) >= 1000:
                ReviewItem.objects.bulk_create(batch)
                made, batch = made + len(batch), []
        ReviewItem.objects.bulk_create(batch)
        made += len(batch)
        record(
            "access.review.started",
            actor=who,
            object_type="review",
            object_id=campaign.pk,
            after={"as_of": day, "due": due, "items": made, "unassigned": unassigned},
        )
    return ReviewStart(campaign, made, unassigned)


def do_decide_review(actor: Actor, item_id: int, decision: str, reason: str = "") -> ReviewItem:
    """The reviewer keeps or revokes one item. A revoke needs a reason and starts a
    ``role-revoke`` case (submitted at once); the assignment ends when it is released.
    The decision, and a rubber-stamp flag if it completes one, are on the audit chain."""
    reason = reason.strip()
    if decision not in ("keep", "revoke"):
        raise DomainError(
            "review.invalid",
            f"A decision is 'keep' or 'revoke', not {decision!r}.",
            errors=[{"field": "decision", "message": "keep or revoke"}],
        )
    if decision == "revoke" and not reason:
        raise DomainError(
            "review.invalid",
            "A revoke needs a reason.",
            errors=[{"field": "reason", "message": "required for a revoke"}],
        )
    spec = _spec()
    found = ReviewItem.objects.select_related("holder").filter(pk=item_id).first()
    if found is None:
        raise DomainError("review.not_found", f"There is no review item {item_id}.")
    holder = found.holder.username
    related = delegation_related(holder, _delegations(actor.today))
    if found.reviewer_id != actor.pk or actor.person == holder or actor.person in related:
        # refused before the transaction, so that the refusal stays on record
        do_refuse(
            "review.not_reviewer",
            f"Review item {item_id} is not yours to decide.",
            action="access.review.denied",
            user=actor.user,
            object_type="review_item",
            object_id=item_id,
        )
    with transaction.atomic():
        item = (
            ReviewItem.objects.select_for_update()
            .select_related("assignment__role", "holder", "reviewer")
            .get(pk=item_id)
        )
        if item.status != ReviewItem.OPEN:
            raise DomainError(
                "review.decided", f"Review item {item_id} was already decided ({item.status})."
            )
        assignment = item.assignment
        if decision == "revoke":
            outcome = do_start_case(
                actor,
                "role-revoke",
                {
                    "beneficiary": holder,
                    "role": assignment.role.key,
                    "valid_from": assignment.valid_from.isoformat(),
                    "reason": reason,
                    "review_item": item.pk,
                },
                submit=True,
            )
            if outcome.denied is not None or outcome.case is None:
                assert outcome.denied is not None
                raise DomainError.from_denied(outcome.denied)
            item.case = outcome.case
        item.status = ReviewItem.REVOKED if decision == "revoke" else ReviewItem.KEPT
        item.decided_at = timezone.now()
        item.reason = reason
        item.save(update_fields=["status", "decided_at", "reason", "case", "last_updated"])
        record(
            f"access.review.{item.status}",
            actor=actor.person,
            object_type="review_item",
            object_id=item.pk,
            before={"status": ReviewItem.OPEN},
            after={
                "status": item.status,
                "person": holder,
                "role": assignment.role.key,
                "valid_from": assignment.valid_from,
                "criticality": item.criticality,
                "case": item.case_id,
            },
            reason=reason,
        )
        _flag_rubber_stamp(actor, spec)
    return item


def _flag_rubber_stamp(actor: Actor, spec: RecertSpec) -> None:
    """On record when this decision makes more than N within M seconds."""
    rule = spec.rubber_stamp
    recent = list(
        ReviewItem.objects.filter(reviewer=actor.user, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)[: rule.items + 1]
    )
    bursts = rubber_stamps(
        ((actor.person, at) for at in recent if at is not None), rule.items, rule.seconds
    )
    if bursts:
        record(
            "access.review.rubber_stamp",
            actor=actor.person,
            object_type="reviewer",
            object_id=actor.person,
            after={"items": len(recent), "within_seconds": rule.seconds, "since": recent[-1]},
            reason=f"more than {rule.items} review decisions in less than {rule.seconds} s",
        )


def may_read_reviews(actor: Actor) -> bool:
    return may_read_access(actor)


def _review_filter(status: str, day: date) -> Q:
    if status not in REVIEW_STATUSES:
        raise DomainError(
            "review.invalid",
            f"Unknown status {status!r}: one of {', '.join(REVIEW_STATUSES)}.",
            errors=[{"field": "status", "message": "unknown status"}],
        )
    return {
        "all": Q(),
        "open": Q(status=ReviewItem.OPEN),
        "overdue": Q(status=ReviewItem.OPEN, due__lt=day),
        "kept": Q(status=ReviewItem.KEPT),
        "revoked": Q(status=ReviewItem.REVOKED),
        "decided": ~Q(status=ReviewItem.OPEN),
    }[status]


@dataclass(frozen=True)
class ReviewReport(RecordPages):
    """Review items of one status, a page at a time (API, page) or all (CSV)."""

    records: QuerySet[ReviewItem]
    day: date
    order = REVIEW_ORDER

    @override
    def row(self, item: ReviewItem) -> dict[str, Any]:
        overdue = is_overdue(item.due, item.status != ReviewItem.OPEN, self.day)
        return {
            "id": item.pk,
            "campaign": item.campaign_id,
            "person": item.holder.username,
            "role": item.assignment.role.key,
            "valid_from": item.assignment.valid_from,
            "criticality": item.criticality,
            "critical_function": item.critical_function,
            "trigger": item.trigger,
            "reviewer": item.reviewer.username,
            "manager": item.manager.username if item.manager else "",
            "unit": item.unit,
            "due": item.due,
            "status": "overdue" if overdue else item.status,
            "suspended": bool(
                item.status == ReviewItem.OPEN and item.suspends_on and item.suspends_on <= self.day
            ),
            "decided_at": item.decided_at,
            "reason": item.reason,
            "case": item.case_id,
        }


def get_review_report(
    actor: Actor | str, status: str = "all", *, mine: bool = False, day: date | None = None
) -> ReviewReport:
    """Review items by status: all of them for compliance and audit (``access.risk.read``)
    and the shell (a ``str`` actor); with ``mine`` those the actor reviews and the overdue
    ones of people they manage."""
    day = day or timezone.localdate()
    where = _review_filter(status, day)
    if mine and isinstance(actor, Actor):
        where &= Q(reviewer=actor.user) | Q(manager=actor.user, status=ReviewItem.OPEN, due__lt=day)
    elif isinstance(actor, Actor):
        access_risks(actor, "access reviews")
    records = ReviewItem.objects.filter(where).select_related(
        "holder", "reviewer", "manager", "assignment__role"
    )
    return ReviewReport(records, day)


def get_review_summary(actor: Actor | str, day: date | None = None) -> dict[str, Any]:
    """Completion per reviewer and per unit, overdue counts, and the rubber-stamp flags
    (compliance and audit, or the shell)."""
    if isinstance(actor, Actor):
        access_risks(actor, "access reviews")
    day = day or timezone.localdate()
    spec = _spec()

    def completion(field: str) -> list[dict[str, Any]]:
        rows = (
            ReviewItem.objects.values(field)
            .annotate(
                total=Count("pk"),
                decided=Count("pk", filter=~Q(status=ReviewItem.OPEN)),
                revoked=Count("pk", filter=Q(status=ReviewItem.REVOKED)),
                overdue=Count("pk", filter=Q(status=ReviewItem.OPEN, due__lt=day)),
            )
            .order_by(field)
        )
        return [
            {
                "name": row[field] or "",
                "total": row["total"],
                "decided": row["decided"],
                "revoked": row["revoked"],
                "overdue": row["overdue"],
                "completion": round(100 * row["decided"] / row["total"], 1),
            }
            for row in rows
        ]

    decisions = ReviewItem.objects.filter(decided_at__isnull=False).values_list(
        "reviewer__username", "decided_at"
    )
    rule = spec.rubber_stamp
    return {
        "as_of": day,
        "by_reviewer": completion("reviewer__username"),
        "by_unit": completion("unit"),
        "rubber_stamps": [
            {"reviewer": b.reviewer, "start": b.start, "end": b.end, "items": b.items}
            for b in rubber_stamps(
                ((who, at) for who, at in decisions.iterator() if at is not None),
                rule.items,
                rule.seconds,
            )
        ],
        "rubber_stamp_rule": {"items": rule.items, "seconds": rule.seconds},
    }


def overdue_reviews_in_inbox(actor: Actor) -> dict[str, Any]:
    """The inbox's part: how many items wait for the actor's decision, and the first ten
    overdue items the actor reviews or whose holder they manage."""
    overdue = get_review_report(actor, "overdue", mine=True)
    first = overdue.records.order_by(*REVIEW_ORDER)[:10]
    waiting = ReviewItem.objects.filter(reviewer=actor.user, status=ReviewItem.OPEN).count()
    return {"overdue_reviews": [overdue.row(item) for item in first], "reviews_waiting": waiting}


def count_overdue_reviews(actor: Actor) -> int:
    """For the start page's tile: all overdue items for compliance and audit, else the
    actor's own and those of people they manage."""
    day = actor.today
    overdue = ReviewItem.objects.filter(status=ReviewItem.OPEN, due__lt=day)
    if not may_read_access(actor):
        overdue = overdue.filter(Q(reviewer=actor.user) | Q(manager=actor.user))
    return overdue.count()


@dataclass(frozen=True)
class ActualConflicts:
    """The actual conflicts of Backoffice's own people (#15), sorted by user, risk, kind,
    object; a page at a time for the API, all rows for CSV."""

    rows: list[dict[str, Any]]

    KEY = ("user_id", "risk_id", "kind", "object")

    def page(self, after: str | None, limit: int) -> Page[dict[str, Any]]:
        return _rows_page(self.rows, self.KEY, after, limit)


def _rows_page(
    rows: list[dict[str, Any]], key: tuple[str, ...], after: str | None, limit: int
) -> Page[dict[str, Any]]:
    """A page of rows sorted by ``key``, after the cursor ``after`` (keyset, in memory)."""
    start = 0
    if after is not None:
        wanted = tuple(decode_cursor(after, len(key)))
        keys = [tuple(row[k] for k in key) for row in rows]
        start = bisect.bisect_right(keys, wanted)
    items = rows[start : start + limit]
    more = start + limit < len(rows)
    return Page(items, encode_cursor([items[-1][k] for k in key]) if more else None)


#: risk levels, most severe first (the chart's order and the ``?level=`` filter's words)
RISK_LEVELS = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class AccessRisks:
    """#19: the access risks people hold today (``sod analyze --live``): one row per person
    and risk, with its level and whether a mitigation accepts it, sorted by person and risk."""

    rows: list[dict[str, Any]]

    KEY = ("user_id", "risk_id")

    def by_level(self) -> dict[str, int]:
        """How many rows have each level (the dashboard's chart)."""
        counts = dict.fromkeys(RISK_LEVELS, 0)
        for row in self.rows:
            counts[row["level"]] = counts.get(row["level"], 0) + 1
        return counts

    def of_level(self, level: str | None) -> AccessRisks:
        """The rows of one level (``?level=``, what a bar of the chart counts); None: all."""
        if level is None:
            return self
        return AccessRisks([row for row in self.rows if row["level"] == level])

    def page(self, after: str | None, limit: int) -> Page[dict[str, Any]]:
        return _rows_page(self.rows, self.KEY, after, limit)


@contextmanager
def _live_folder(day: date, prefix: str) -> Iterator[Path | None]:
    """The live rule set and people of ``day`` as an analysis folder in a scratch directory
    that goes afterwards; None when there is no rule set to analyse."""
    from backoffice.access.export import write_live_folder

    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        folder = Path(scratch)
        try:
            write_live_folder(folder, day)
        except LookupError:
            yield None
            return
        yield folder


def get_access_risks(actor: Actor, day: date | None = None) -> AccessRisks:
    """The live analysis for compliance: the same rule set, people, roles and mitigations as
    ``sod analyze --live``. Checked before anything is read, like the mitigation report.

    Read whole for each request: at the demo's size a few tens of milliseconds; a bank with
    a million people asks the CLI (``sod analyze --live``) instead."""
    access_risks(actor, "access risks")
    day = day or timezone.localdate()
    from backoffice.core.accessrisk.analysis import analyze

    rules = get_access_rules()
    names = {k: r.name for k, r in rules.risks.items()} if rules else {}
    with _live_folder(day, "backoffice-risks-") as folder:
        if folder is None:
            return AccessRisks([])
        rows = analyze(folder, day).table().to_pylist()
    for row in rows:
        row["risk_name"] = names.get(row["risk_id"], "")
    return AccessRisks(sorted(rows, key=lambda row: (row["user_id"], row["risk_id"])))


def get_actual_conflicts(
    actor: Actor, window_days: int = 30, day: date | None = None
) -> ActualConflicts:
    """``sod actual --live`` for the API and the page: the live rule set and people, the
    whole audit trail, the policy's actions of each function. Checked before anything is
    read, like the mitigation report."""
    access_risks(actor, "actual conflicts")
    day = day or timezone.localdate()
    from backoffice.audit.exports import ExportScope, export_log
    from backoffice.core.accessrisk.actual import analyze_actual
    from backoffice.sod_actual_report import actual_table

    with _live_folder(day, "backoffice-actual-") as folder:
        if folder is None:
            return ActualConflicts([])
        trail = folder / "audit-trail.json"
        with open(trail, "w", encoding="utf-8") as handle:
            export_log(handle, "ocel", ExportScope())
        report = analyze_actual(
            folder, [trail], day, window_days * 86_400_000_000, people_only=[trail]
        )
        return ActualConflicts(actual_table(report).to_pylist())


# -- dynamic separation of duties on role activation (#15 DSD) -------------------------------

__all__ += ["session_roles_of", "do_activate_role", "do_deactivate_role"]


def _dsd_constraints() -> list[DsdSpec]:
    spec = derived_from_live_policy("dsd", lambda p: p.access.dsd if p.access else [])
    return list(spec or [])


def session_roles_of(actor: Actor) -> list[tuple[str, bool]]:
    """The session roles ``actor`` holds today, each with whether it is active in this
    login session: what the settings page offers to activate or deactivate."""
    held = get_held_roles(actor.user, actor.today) & session_roles()
    active = get_activated_roles(actor.user, actor.session_key)
    return [(role, role in active) for role in sorted(held)]


def _activation_refuse(
    actor: Actor, code: str, message: str, role: str, action: str = "access.role.activate_denied"
) -> NoReturn:
    do_refuse(code, message, action=action, user=actor.user, object_type="role", object_id=role)


def do_activate_role(actor: Actor, session_key: str | None, role: str) -> ActiveRole:
    """Activate a held ``activation: session`` role for the login session ``session_key``,
    unless that would make ``n`` roles of a DSD constraint active in it (NIST RBAC §5.3.2).
    Refusals and the activation are on the audit chain."""
    if not session_key:
        _activation_refuse(
            actor, "access.no_session", "Roles are activated for a login session.", role
        )
    found = Role.objects.filter(key=role, retired_at__isnull=True).first()
    if found is None:
        _activation_refuse(actor, "access.unknown_role", f"There is no role {role!r}.", role)
    if role not in session_roles():
        _activation_refuse(
            actor,
            "access.not_session_role",
            f"The role {role!r} is always active for its holders; it is not activated.",
            role,
        )
    if role not in get_held_roles(actor.user, actor.today):
        _activation_refuse(actor, "access.not_held", f"You do not hold the role {role!r}.", role)
    with transaction.atomic():
        # one session's activations one after another: two at once cannot both pass DSD
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        active = get_activated_roles(actor.user, session_key)
        refusal = judge_activation(active, role, _dsd_constraints())
        if refusal is None:
            activated, created = ActiveRole.objects.get_or_create(
                person=actor.user, session_key=session_key, role=found
            )
            if created:
                record(
                    "access.role.activate",
                    actor=actor.person,
                    object_type="role",
                    object_id=role,
                    before={"active": sorted(active)},
                    after={"active": sorted(active | {role})},
                )
    if refusal is not None:
        _activation_refuse(actor, "access.dsd", refusal.message, role)
    if actor.session_key == session_key:
        actor.forget()
    return activated


def do_end_session_roles(user: Any, session_key: str | None) -> int:
    """Logging out ends the session's activations (audited, one event for all of them), so
    no row outlives the session that made it."""
    if user is None or not session_key:
        return 0
    with transaction.atomic():
        active = get_activated_roles(user, session_key)
        if not active:
            return 0
        ActiveRole.objects.filter(person=user, session_key=session_key).delete()
        record(
            "access.role.deactivate",
            actor=user.get_username(),
            object_type="role",
            object_id=",".join(sorted(active)),
            before={"active": sorted(active)},
            after={"active": [], "reason": "logout"},
        )
    return len(active)


def do_deactivate_role(actor: Actor, session_key: str | None, role: str) -> bool:
    """End ``role``'s activation in the login session; False when it was not active."""
    if not session_key:
        _activation_refuse(
            actor,
            "access.no_session",
            "Roles are activated for a login session.",
            role,
            action="access.role.deactivate_denied",
        )
    with transaction.atomic():
        active = get_activated_roles(actor.user, session_key)
        deleted, _ = ActiveRole.objects.filter(
            person=actor.user, session_key=session_key, role__key=role
        ).delete()
        if deleted:
            record(
                "access.role.deactivate",
                actor=actor.person,
                object_type="role",
                object_id=role,
                before={"active": sorted(active)},
                after={"active": sorted(active - {role})},
            )
    if actor.session_key == session_key:
        actor.forget()
    return bool(deleted)
