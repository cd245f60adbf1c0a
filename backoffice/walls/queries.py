"""Reads for the Chinese walls: the live walls section, a person as the rules see them, the
lists and reports. Checked reads of walled data are in ``services`` (they record)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import (
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from backoffice.access.queries import get_actor_facts
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.base.pages import MAX_PAGE, PAGE_SIZE, Page, cursor_of, keyset
from backoffice.core.actors import ActorFacts
from backoffice.core.walls import (
    Crossing,
    Datum,
    Kind,
    Project,
    ReadAllowed,
    Reader,
    WallPosition,
    Walls,
    check_read,
    may_know_project,
)
from backoffice.org.queries import derived_from_live_policy
from backoffice.walls.models import (
    AccessRecord,
    DealProject,
    Issuer,
    IssuerDocument,
    ListEntry,
    ProjectMember,
    WallCrossing,
)

__all__ = [
    "pickable_projects",
    "actor_wall",
    "MANAGE_PERMISSION",
    "get_walls",
    "get_reader",
    "READ_PERMISSION",
    "access_walls_admin",
    "may_read_walls",
    "get_list",
    "listed_issuers",
    "get_issuers",
    "get_restricted_issuers",
    "get_projects",
    "INSIDER_ORDER",
    "Insider",
    "get_insiders",
    "get_all_insiders",
    "get_insider_page",
    "get_crossings",
    "get_denials",
    "get_open_projects_of",
    "get_readable_documents",
]

#: Compliance: configures nothing here (the policy does) but runs the lists and crossings.
MANAGE_PERMISSION = "walls.manage"
#: Control besides compliance (internal audit) reads the watch list and the reports (CW-1).
READ_PERMISSION = "audit.read"


def get_walls() -> Walls:
    """The walls section of the live policy, parsed once per policy version."""
    return derived_from_live_policy("walls", lambda p: Walls.from_spec(p.walls)) or Walls()


def get_reader(
    user: Any, walls: Walls, at: datetime | None = None, facts: ActorFacts | None = None
) -> Reader:
    """The person's facts today, their Brewer–Nash history and the crossings not yet over."""
    at = at or timezone.now()
    history = AccessRecord.objects.filter(user=user, reset_at__isnull=True).values_list(
        "issuer__key", flat=True
    )
    crossings = WallCrossing.objects.filter(
        user=user, ended_at__isnull=True, valid_to__gt=at
    ).select_related("project__issuer")
    return Reader(
        facts=facts or get_actor_facts(user),
        history=frozenset(history),
        crossings=tuple(
            Crossing(
                person=user.get_username(),
                project=c.project.key,
                issuer=c.project.issuer.key,
                area=c.project.area,
                valid_from=c.valid_from,
                valid_to=c.valid_to,
            )
            for c in crossings
        ),
    )


def actor_wall(actor: Actor) -> WallPosition:
    """The actor's part ``wall``: their reader now and the deal projects they are inside of."""
    reader = get_reader(actor.user, get_walls(), timezone.now(), actor.facts)
    inside = get_open_projects_of(actor.user).values_list("issuer__key", "area").distinct()
    return WallPosition(reader, frozenset(inside))


def get_open_projects_of(user: Any) -> QuerySet[DealProject]:
    """Projects ``user`` is an insider of now: an active member or an active crossing."""
    now = timezone.now()
    crossed = WallCrossing.objects.filter(
        user=user, ended_at__isnull=True, valid_from__lte=now, valid_to__gt=now
    ).values("project_id")
    member = ProjectMember.objects.filter(user=user, until__isnull=True).values("project_id")
    return DealProject.objects.exclude(status=DealProject.Status.CLOSED).filter(
        Q(pk__in=crossed) | Q(pk__in=member)
    )


def access_walls_admin(actor: Actor, what: str, *, read_only: bool = False) -> None:
    """Only compliance (``walls.manage``) acts on the lists, projects and crossings; control
    (compliance and internal audit, ``audit.read``) reads the watch list and the reports.

    Anyone else is refused with ``wall.forbidden``, and the refusal is on record (CW-4).
    """
    granted = actor.permissions
    if MANAGE_PERMISSION in granted or (read_only and READ_PERMISSION in granted):
        return
    who = "compliance and internal audit" if read_only else "compliance"
    do_refuse(
        "wall.forbidden",
        f"Only {who} may see or change the {what}.",
        action="walls.denied",
        user=actor.user,
        object_type="walls",
        object_id=what,
    )


def may_read_walls(actor: Actor) -> bool:
    granted = actor.permissions
    return bool(granted & {MANAGE_PERMISSION, READ_PERMISSION})


def get_list(kind: str) -> QuerySet[ListEntry]:
    """The entries on a list now (watch: CW-4; restricted: CW-3), newest first."""
    return ListEntry.objects.filter(kind=kind, until__isnull=True).select_related(
        "issuer__conflict_class", "project"
    )


def listed_issuers(kind: str) -> frozenset[str]:
    return frozenset(get_list(kind).values_list("issuer__key", flat=True))


def get_issuers() -> QuerySet[Issuer]:
    """The issuers in use (everyone reads them: names and classes are no secret)."""
    return Issuer.objects.filter(retired_at__isnull=True).select_related("conflict_class")


def get_restricted_issuers() -> QuerySet[Issuer]:
    """CW-3: each restricted issuer once (several projects may list it), with ``since``: when
    its earliest current entry began."""
    entries = ListEntry.objects.filter(
        issuer=OuterRef("pk"), kind=ListEntry.Kind.RESTRICTED, until__isnull=True
    )
    first = Subquery(entries.order_by("since").values("since")[:1])
    return Issuer.objects.annotate(since=first).filter(since__isnull=False)


def _count(rows: QuerySet[Any]) -> Coalesce:
    """How many of ``rows`` (filtered on ``project=OuterRef("pk")``), as a column."""
    counted = rows.order_by().values("project").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def get_projects(at: datetime | None = None) -> QuerySet[DealProject]:
    """Deal projects with ``insiders_now``: active members and crossings running at ``at``
    (counted in the query, so a page of projects costs one query however long it is)."""
    at = at or timezone.now()
    members = ProjectMember.objects.filter(project=OuterRef("pk"), until__isnull=True)
    crossings = WallCrossing.objects.filter(
        project=OuterRef("pk"), ended_at__isnull=True, valid_from__lte=at, valid_to__gt=at
    )
    return DealProject.objects.select_related("issuer", "lead").annotate(
        insiders_now=_count(members) + _count(crossings)
    )


#: A project's insider list, earliest first: members and crossings interleaved by ``since``.
INSIDER_ORDER = ("since", "how", "pk")

Insider = ProjectMember | WallCrossing


def get_insiders(project: DealProject) -> tuple[QuerySet[ProjectMember], QuerySet[WallCrossing]]:
    """The two sources of an insider list (MAR Art. 18), each with ``since`` and ``how`` so
    that both sort by ``INSIDER_ORDER``: deal team members, people brought over the wall."""
    members = project.members.select_related("user__profile").annotate(
        how=Value("member", output_field=CharField())
    )
    crossings = project.crossings.select_related("user__profile").annotate(
        since=F("valid_from"), how=Value("crossing", output_field=CharField())
    )
    return members, crossings


def _insider_key(row: Insider) -> tuple[datetime, str, int]:
    if isinstance(row, WallCrossing):
        return row.valid_from, "crossing", row.pk
    return row.since, "member", row.pk


def get_all_insiders(project: DealProject) -> list[Insider]:
    """The whole insider list in ``INSIDER_ORDER`` (for its CSV and the API's answers)."""
    members, crossings = get_insiders(project)
    return sorted([*members, *crossings], key=_insider_key)


def get_insider_page(
    project: DealProject, after: str | None, limit: int = PAGE_SIZE
) -> Page[Insider]:
    """One page of the insider list: a page of each source after the cursor, merged.

    The next page starts after the last row shown, whichever source it came from. A bad
    cursor raises ``input.invalid`` (as ``keyset`` does).
    """
    limit = max(1, min(limit, MAX_PAGE))
    members, crossings = get_insiders(project)
    parts: Sequence[Page[Any]] = (
        keyset(members, INSIDER_ORDER, after, limit),
        keyset(crossings, INSIDER_ORDER, after, limit),
    )
    merged: list[Insider] = sorted((r for p in parts for r in p.items), key=_insider_key)
    shown = merged[:limit]
    more = len(merged) > len(shown) or any(p.next for p in parts)
    return Page(shown, cursor_of(shown[-1], INSIDER_ORDER) if more else None)


def get_crossings() -> QuerySet[WallCrossing]:
    return WallCrossing.objects.select_related("user__profile", "project__issuer")


def get_denials() -> QuerySet[AuditEvent]:
    """Every refusal by the walls, from the audit trail: reads, starts, releases, lists."""
    return AuditEvent.objects.filter(
        Q(after__code__startswith="wall.") | Q(action="walls.denied")
    ).order_by("-seq")


def get_readable_documents(actor: Actor) -> QuerySet[IssuerDocument]:
    """Documents the actor could open now: titles are shown only of what the wall lets
    through (listing adds nothing to the Brewer–Nash history; opening does).

    The read rule is decided once per issuer, area and kind that documents exist for (what
    it depends on), and the documents of the allowed ones are the rows: a query that pages.
    """
    walls = get_walls()
    now = timezone.now()
    reader = actor.wall.reader
    held = IssuerDocument.objects.order_by().values_list("issuer_id", "issuer__key", "area", "kind")
    readable = Q(pk__in=[])
    for issuer_id, issuer, area, kind in held.distinct():
        allowed = check_read(walls, reader, Datum(issuer, area, Kind(kind)), now)
        if isinstance(allowed, ReadAllowed):
            readable |= Q(issuer_id=issuer_id, area=area, kind=kind)
    return IssuerDocument.objects.filter(readable).select_related("issuer")


def pickable_projects(actor: Actor, at: datetime | None = None) -> list[tuple[str, str]]:
    """#19 (defect 14): the open deal projects the actor may name in a wall-crossing
    request, as (key, name): those whose existence they may know (#13: control, and
    whoever may read the mandate, CW-1/BN-1). Any other project is left out, so a picker
    never tells anyone of a deal they may not know of."""
    at = at or timezone.now()
    walls = get_walls()
    reader = get_reader(actor.user, walls, at, actor.facts)
    projects = (
        DealProject.objects.exclude(status=DealProject.Status.CLOSED)
        .select_related("issuer")
        .order_by("name", "pk")
    )
    return [
        (p.key, p.name)
        for p in projects
        if may_know_project(
            walls, reader, Project(p.key, p.name, p.issuer.key, p.area, p.is_open), at
        )
    ]
