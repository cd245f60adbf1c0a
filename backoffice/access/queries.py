"""Who holds which roles and permissions on a given day, and over time (#13)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from backoffice.access.models import (
    ActiveRole,
    EmergencySession,
    Mitigation,
    ReviewItem,
    Role,
    RoleAssignment,
)
from backoffice.base.context import cached, remember
from backoffice.base.references import Directory
from backoffice.core.access import AccessRules, Assessment, assess_grant
from backoffice.core.access_time import PeriodAssessment, Span, Timeline, assess_grant_over
from backoffice.core.actors import ActorFacts
from backoffice.core.delegation import (
    ActingRules,
    assess_delegation_over,
    delegable_permissions,
    delegation_verdict,
)
from backoffice.core.emergency import tag
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.core.policy import Policy, access_rules, role_facts
from backoffice.core.processes import WhoSpec
from backoffice.core.roles import expand_roles, permissions_of
from backoffice.org.models import Membership
from backoffice.org.queries import derived_from_live_policy

__all__ = [
    "count_mitigations",
    "mitigation_filter",
    "facts_of_people",
    "session_roles",
    "get_activated_roles",
    "get_actor_facts",
    "facts_by_username",
    "get_roles",
    "get_permissions",
    "get_roles_and_permissions",
    "has_permission",
    "role_hierarchy",
    "get_access_rules",
    "get_held_roles",
    "get_mitigated_risks",
    "get_grant_assessment",
    "get_timeline",
    "get_grant_assessment_over",
    "role_permissions",
    "delegation_rule",
    "get_delegation_assessment",
    "get_acting_rules",
    "get_mitigations",
    "running_session_of",
    "emergency_mark",
    "EMERGENCY_ORDER",
    "get_emergency_sessions",
]


def role_hierarchy() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(contains, grants)``: each role's direct child roles and direct permissions.

    The roles are the live policy's (applying it is the only way they change), worked out
    once per policy version.
    """

    def build(policy: Policy) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        facts = role_facts(policy)
        return (
            {key: list(f.contains) for key, f in facts.items()},
            {key: list(f.permissions) for key, f in facts.items()},
        )

    return derived_from_live_policy("role_hierarchy", build) or ({}, {})


def _active(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def _suspended(day: date) -> Exists:
    """#15 RECERT-1: an assignment whose review is still open on or after the item's
    ``suspends_on`` gives no permissions; judged on every read, not by a scheduler."""
    return Exists(
        ReviewItem.objects.filter(
            assignment=OuterRef("pk"), status=ReviewItem.OPEN, suspends_on__lte=day
        )
    )


def _held(user: Any, day: date) -> list[str]:
    return list(
        RoleAssignment.objects.filter(_active(day), user=user, role__retired_at__isnull=True)
        .exclude(_suspended(day))
        .values_list("role__key", flat=True)
    )


def get_roles_and_permissions(
    user: Any, day: date | None = None
) -> tuple[frozenset[str], frozenset[str]]:
    """Roles held on ``day`` (with those they contain) and the permissions they grant."""
    if not getattr(user, "is_authenticated", False):
        return frozenset(), frozenset()
    contains, grants = role_hierarchy()
    held = _held(user, day or timezone.localdate())
    return expand_roles(held, contains), permissions_of(held, contains, grants)


def get_roles(user: Any, day: date | None = None) -> frozenset[str]:
    return get_roles_and_permissions(user, day)[0]


def get_permissions(user: Any, day: date | None = None) -> frozenset[str]:
    return get_roles_and_permissions(user, day)[1]


def has_permission(user: Any, permission: str, day: date | None = None) -> bool:
    return permission in get_permissions(user, day)


# -- the facts the rules take about people ----------------------------------------------


def session_roles() -> frozenset[str]:
    """#15 DSD: the roles the live policy marks ``activation: session``."""
    roles = derived_from_live_policy(
        "session_roles",
        lambda policy: frozenset(r.id for r in policy.roles if r.activation == "session"),
    )
    return roles or frozenset()


def get_activated_roles(user: Any, session_key: str | None) -> frozenset[str]:
    """The session roles ``user`` activated in the login session ``session_key``."""
    if not session_key or not getattr(user, "is_authenticated", False) or not session_roles():
        return frozenset()  # no query where the policy has no session roles
    return frozenset(
        ActiveRole.objects.filter(person=user, session_key=session_key).values_list(
            "role__key", flat=True
        )
    )


def facts_of_people(
    users: Iterable[Any], day: date, activated: Mapping[int, Collection[str]] | None = None
) -> dict[str, ActorFacts]:
    """Lines, units, roles, permissions, competence and board seat of each of ``users`` on
    ``day``: one statement for any number of people (load their ``profile`` with them).

    A role marked ``activation: session`` counts only where ``activated`` (by user pk) says
    it is active in the caller's session (#15 DSD); other people's facts have none."""
    inactive = session_roles()
    activated = activated or {}
    people = {u.pk: u for u in users}
    if not people:
        return {}
    units: dict[int, list[tuple[str, str, bool]]] = {pk: [] for pk in people}
    held: dict[int, list[str]] = {pk: [] for pk in people}
    # one statement for both: the units a person is in and the roles they hold (#14)
    in_units = Membership.objects.filter(
        _active(day), user_id__in=people, unit__retired_at__isnull=True
    ).values_list(
        "user_id",
        "unit__key",
        "unit__line",
        ExpressionWrapper(Q(unit__parent__isnull=True), output_field=BooleanField()),
        Value("unit"),
    )
    holding = (
        RoleAssignment.objects.filter(
            _active(day), user_id__in=people, role__retired_at__isnull=True
        )
        .exclude(_suspended(day))
        .values_list("user_id", "role__key", Value(""), Value(False), Value("role"))
    )
    arms = [holding.order_by()]
    now = timezone.now()
    today = day == timezone.localdate(now)
    if today:  # #15: emergency roles are held only now, while their session runs (EMERG-2)
        arms.append(_running_sessions(now).filter(person_id__in=people).order_by())
    sessions: dict[int, int] = {}
    for user_id, key, line, top, kind in in_units.order_by().union(*arms, all=True):
        if kind == "unit":
            units[user_id].append((key, line, bool(top)))
        else:
            if kind == "role" and key in inactive and key not in activated.get(user_id, ()):
                continue  # held but not active in this session (#15 DSD)
            held[user_id].append(key)
            if kind == "emergency":
                sessions[user_id] = int(line)
    if today:  # what the audit chain tags this request's events with (EMERG-2)
        for pk, user in people.items():
            remember(_session_key(user.get_username()), sessions.get(pk))
    contains, grants = role_hierarchy()
    facts = {}
    for pk, user in people.items():
        profile = getattr(user, "profile", None)
        competence = None
        if profile is not None and profile.competence_amount is not None:
            competence = Money(profile.competence_amount, profile.competence_currency)
        mine = units[pk]
        facts[user.get_username()] = ActorFacts(
            person=user.get_username(),
            name=profile.display_name if profile else user.get_username(),
            lines=frozenset(Line(line) for _, line, _ in mine),
            units=frozenset(key for key, _, _ in mine),
            roles=expand_roles(held[pk], contains),
            permissions=permissions_of(held[pk], contains, grants),
            competence=competence,
            board_member=any(top and line == Line.MANAGEMENT for _, line, top in mine),
            active=user.is_active,
        )
    return facts


def get_actor_facts(
    user: Any, day: date | None = None, session_key: str | None = None
) -> ActorFacts:
    """One person's facts on ``day`` (today): what ``Actor.facts`` holds for the caller,
    with the session roles activated in their login session ``session_key`` (#15 DSD)."""
    if not getattr(user, "is_authenticated", False):
        return ActorFacts(person="anonymous", active=False)
    activated = {user.pk: get_activated_roles(user, session_key)}
    return facts_of_people([user], day or timezone.localdate(), activated)[user.get_username()]


def facts_by_username(usernames: Iterable[str], day: date) -> dict[str, ActorFacts]:
    """Facts of the active or inactive people named (unknown names are left out)."""
    names = set(usernames)
    if not names:
        return {}
    users = get_user_model().objects.select_related("profile").filter(username__in=names)
    return facts_of_people(users, day)


def delegation_check(
    principal: Any, substitute: Any, start: date, end: date, approved: bool
) -> tuple[str, str] | None:
    """#13: acting for ``principal`` may not give ``substitute`` a critical access risk, nor
    a high one unless compliance approved it (``approved``) where the policy allows that."""
    assessment = get_delegation_assessment(principal, substitute, start, end)
    if assessment is None:
        return None
    high = delegation_rule()
    return delegation_verdict(assessment, "approved" if approved and high == "compliance" else high)


def role_directory() -> Directory:
    """The roles of the live policy, for payload fields of type ``role``."""
    alive = Role.objects.filter(retired_at__isnull=True)
    return Directory(
        existing=lambda ids: frozenset(alive.filter(key__in=ids).values_list("key", flat=True)),
        choices=lambda: list(alive.order_by("name").values_list("key", "name")),
    )


# -- access risks (#6) ---------------------------------------------------------------------


def get_access_rules() -> AccessRules | None:
    """The live policy's rule set, compiled once per policy version (None: it has none)."""
    return derived_from_live_policy("access", access_rules)


def get_held_roles(user: Any, day: date) -> set[str]:
    """The roles assigned to ``user`` on ``day`` (not expanded: the rules expand them)."""
    return set(_held(user, day))


def get_mitigated_risks(user: Any, day: date) -> set[str]:
    """The risks an active mitigation lets ``user`` hold on ``day``."""
    return set(
        Mitigation.objects.filter(
            person=user, valid_from__lte=day, valid_until__gte=day
        ).values_list("risk", flat=True)
    )


def get_grant_assessment(
    user: Any, add: Sequence[str], remove: Sequence[str] = (), day: date | None = None
) -> Assessment | None:
    """What giving ``user`` the roles ``add`` (and taking ``remove``) would do on ``day``."""
    rules = get_access_rules()
    if rules is None:
        return None
    day = day or timezone.localdate()
    return assess_grant(
        rules, get_held_roles(user, day), add, remove, get_mitigated_risks(user, day)
    )


def get_timeline(user: Any, start: date) -> Timeline:
    """``user``'s role assignments and mitigations that hold on ``start`` or later —
    also those starting in the future (#13: a grant is judged on every day it holds)."""
    roles = RoleAssignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=start), user=user, role__retired_at__isnull=True
    ).values_list("role__key", "valid_from", "valid_to", Value(False))
    # #15: a running emergency session holds its role on every day it touches, so a grant
    # or a delegation is judged with it (one statement with the assignments)
    sessions = EmergencySession.objects.filter(
        person=user, ends_at__gt=timezone.now(), role__retired_at__isnull=True
    ).values_list("role__key", TruncDate("started_at"), TruncDate("ends_at"), Value(True))
    mitigations = Mitigation.objects.filter(person=user, valid_until__gte=start).values_list(
        "risk", "valid_from", "valid_until"
    )
    held = roles.order_by().union(sessions.order_by(), all=True)
    return Timeline(
        roles=tuple(
            Span(role, _day(since), _day(until) + timedelta(days=1))
            if emergency
            else Span(role, since, until)
            for role, since, until, emergency in held
        ),
        mitigations=tuple(
            Span(risk, since, last + timedelta(days=1)) for risk, since, last in mitigations
        ),
    )


def _day(value: Any) -> date:
    """A truncated moment as a day (SQLite may hand it back as text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def get_grant_assessment_over(
    user: Any,
    add: Sequence[str],
    start: date,
    end: date | None = None,
    remove: Sequence[str] = (),
) -> PeriodAssessment | None:
    """What giving ``user`` the roles ``add`` from ``start`` until ``end`` (exclusive, None:
    open-ended) would do, judged on every day of it against their other assignments and
    mitigations (#13)."""
    rules = get_access_rules()
    if rules is None:
        return None
    return assess_grant_over(rules, get_timeline(user, start), add, start, end, remove)


def role_permissions() -> dict[str, frozenset[str]]:
    """Each role's permissions, those of the roles it contains included."""

    def build(policy: Policy) -> dict[str, frozenset[str]]:
        contains, grants = role_hierarchy()
        return {role: permissions_of([role], contains, grants) for role in contains}

    return derived_from_live_policy("role_permissions", build) or {}


def _delegable_steps() -> tuple[WhoSpec, ...]:
    """Who acts on each step of the four-eyes processes: there a substitute may act for
    the principal (the credit engine lets nobody vote for someone else)."""

    def build(policy: Policy) -> tuple[WhoSpec, ...]:
        return tuple(
            step.who for p in policy.processes if p.engine == "four_eyes" for step in p.steps
        )

    return derived_from_live_policy("delegable_steps", build) or ()


def delegation_rule() -> str:
    """``access.delegation.high`` of the live policy: ``refuse`` or ``compliance``."""
    rules = get_access_rules()
    return rules.spec.delegation.high if rules is not None else "refuse"


def get_delegation_assessment(
    principal: Any, substitute: Any, start: date, end: date | None
) -> PeriodAssessment | None:
    """#13: the substitute's own functions plus those they could exercise for the
    principal, on every day of ``[start, end)``."""
    rules = get_access_rules()
    if rules is None:
        return None
    contains, grants = role_hierarchy()
    steps = _delegable_steps()

    def permissions(held: Iterable[str]) -> frozenset[str]:
        return permissions_of(held, contains, grants)

    def delegable(held: Iterable[str]) -> frozenset[str]:
        return delegable_permissions(
            steps, permissions(held), expand_roles(held, contains), role_permissions()
        )

    return assess_delegation_over(
        rules,
        get_timeline(substitute, start),
        Timeline(roles=get_timeline(principal, start).roles),
        start,
        end,
        permissions,
        delegable,
        principal.get_username(),
    )


def get_acting_rules(user: Any, day: date) -> ActingRules | None:
    """What the act-time check of a substitute needs (#13); None without access rules."""
    rules = get_access_rules()
    if rules is None:
        return None
    return ActingRules(rules, role_permissions(), frozenset(get_mitigated_risks(user, day)))


#: a mitigation that ends within this many days is listed as expiring
EXPIRING_DAYS = 30


def mitigation_filter(status: str, day: date, within: int | None = None) -> Q:
    """Mitigations by status on ``day``: ``active``, ``expiring`` (ends within
    ``EXPIRING_DAYS``, or ``within`` days: #19, the dashboard's 30/60/90 days), ``expired``
    (ended, not renewed), ``due`` (expiring or expired); anything else: all."""
    if status == "active":
        return Q(valid_from__lte=day, valid_until__gte=day)
    if status == "expiring":
        return Q(
            valid_until__gte=day, valid_until__lt=day + timedelta(days=within or EXPIRING_DAYS)
        )
    if status == "expired":
        return Q(valid_until__lt=day)
    if status == "due":
        return Q(valid_until__lt=day + timedelta(days=EXPIRING_DAYS))
    return Q()


def get_mitigations(status: str = "all", day: date | None = None, within: int | None = None) -> Any:
    """Mitigations of a status on ``day`` (``mitigation_filter``), soonest end first."""
    day = day or timezone.localdate()
    rows = Mitigation.objects.select_related("person", "owner", "monitor", "case")
    rows = rows.filter(mitigation_filter(status, day, within))
    return rows.order_by("valid_until", "person__username", "risk")


def count_mitigations(
    wanted: dict[str, tuple[str, int | None]], day: date | None = None
) -> dict[str, int]:
    """#19: how many mitigations each ``(status, within)`` of ``wanted`` lists, in one query
    (the dashboard's chart: each bar the number its link's list shows)."""
    day = day or timezone.localdate()
    counts = Mitigation.objects.aggregate(
        **{
            f"n{i}": Count("pk", filter=mitigation_filter(status, day, within))
            for i, (status, within) in enumerate(wanted.values())
        }
    )
    return {key: counts[f"n{i}"] for i, key in enumerate(wanted)}


# -- #15 part 2: emergency access ------------------------------------------------------------


def _running_sessions(now: Any) -> Any:
    """Emergency sessions running at ``now`` as rows of the facts' union (EMERG-2: judged
    at each check, so a session whose end passed while nothing ran is simply not read)."""
    return EmergencySession.objects.filter(
        started_at__lte=now, ends_at__gt=now, role__retired_at__isnull=True
    ).values_list(
        "person_id", "role__key", Cast("pk", CharField()), Value(False), Value("emergency")
    )


def _session_key(username: str) -> str:
    return f"emergency_session:{username}"


def running_session_of(username: str) -> int | None:
    """The id of ``username``'s emergency session running now, or None: what the audit
    chain tags their events with. Once per request (the actor's facts note it already)."""

    def find() -> int | None:
        now = timezone.now()
        found = (
            EmergencySession.objects.filter(
                person__username=username, started_at__lte=now, ends_at__gt=now
            )
            .order_by("started_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        return int(found) if found is not None else None

    if not username or ":" in username or username == "anonymous":
        return None  # the shell, the system and anonymous callers hold no sessions
    result: int | None = cached(_session_key(username), find)
    return result


def emergency_mark(actor: str) -> str:
    """What the audit chain puts at the head of ``actor``'s events now (EMERG-2)."""
    session = running_session_of(actor)
    return tag(session) if session is not None else ""


#: newest first; the pk breaks ties
EMERGENCY_ORDER = ("-started_at", "-pk")


def get_emergency_sessions(status: str = "all", now: Any = None) -> Any:
    """Emergency sessions by status at ``now``: ``active`` (running), ``unreviewed`` (ended,
    not reviewed), ``overdue`` (unreviewed past ``review_due``), ``reviewed`` or ``all``."""
    now = now or timezone.now()
    rows = EmergencySession.objects.select_related("person", "role", "reviewed_by")
    ended = Q(ends_at__lte=now)
    if status == "active":
        rows = rows.filter(started_at__lte=now, ends_at__gt=now)
    elif status == "unreviewed":
        rows = rows.filter(ended, reviewed_at__isnull=True)
    elif status == "overdue":
        rows = rows.filter(ended, reviewed_at__isnull=True, review_due__lte=now)
    elif status == "reviewed":
        rows = rows.filter(reviewed_at__isnull=False)
    return rows.order_by(*EMERGENCY_ORDER)
