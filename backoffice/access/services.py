"""Access governance for people who ask: what-if simulations and the mitigation report.

Authorisation is here, not in the views: reading access risks needs ``access.risk.read``;
anyone else is refused with ``access.forbidden``, and the refusal is on record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from backoffice.access.effects import period_view
from backoffice.access.models import Mitigation, ReviewCampaign, ReviewItem, RoleAssignment
from backoffice.access.queries import (
    EXPIRING_DAYS,
    get_access_rules,
    get_grant_assessment_over,
    get_held_roles,
    get_mitigations,
)
from backoffice.audit.services import do_refuse, record
from backoffice.base.actor import Actor
from backoffice.base.pages import PAGE_SIZE, Page, keyset
from backoffice.cases.models import Delegation
from backoffice.cases.services import do_start_case
from backoffice.core.accessrisk import UnknownRole
from backoffice.core.errors import DomainError
from backoffice.core.org import MembershipRole
from backoffice.core.recert import (
    RecertSpec,
    criticality_of,
    delegation_related,
    due_date,
    is_overdue,
    manager_chain,
    reviewer_for,
    rubber_stamps,
    supports_critical_function,
    suspends_on,
)
from backoffice.org.models import Membership, Responsibility, Unit
from backoffice.org.queries import derived_from_live_policy

__all__ = [
    "READ_PERMISSION",
    "may_read_access",
    "access_risks",
    "get_simulation",
    "MITIGATION_ORDER",
    "MitigationReport",
    "get_mitigation_report",
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


# -- #15 recertification (RECERT-1, RECERT-2; docs/access.md) -------------------------------

REVIEW_START_PERMISSION = "access.review.start"
#: how far from today a campaign's day may lie (a replay of the past, a dry run ahead)
MAX_AS_OF_DAYS = 3653
#: what the report and the API filter by; ``overdue`` is open and past its due date
REVIEW_STATUSES = ("all", "open", "overdue", "kept", "revoked", "decided")
#: the soonest due first, then by holder and role; the pk orders the rest
REVIEW_ORDER = ("due", "holder__username", "assignment__role__key", "pk")


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
        rows = Membership.objects.filter(active, unit__retired_at__isnull=True).order_by(
            "valid_from", "unit__key", "pk"
        )
        for person, unit, role in rows.values_list("user__username", "unit__key", "role"):
            self.units.setdefault(person, []).append(unit)
            if role == MembershipRole.HEAD.value:
                self.heads.setdefault(unit, []).append(person)
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
            if pk in busy or due_date(spec, role, max(kept.get(pk, start), start)) > due:
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
class ReviewReport:
    """Review items of one status, a page at a time (API, page) or all (CSV)."""

    records: QuerySet[ReviewItem]
    day: date

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

    def page(self, after: str | None, limit: int = PAGE_SIZE) -> Page[dict[str, Any]]:
        """The ``limit`` rows after the cursor ``after`` (a bad cursor: ``input.invalid``)."""
        found = keyset(self.records, REVIEW_ORDER, after, limit)
        return Page([self.row(i) for i in found.items], found.next)

    def all_rows(self) -> Iterator[dict[str, Any]]:
        for item in self.records.order_by(*REVIEW_ORDER).iterator(chunk_size=500):
            yield self.row(item)


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
