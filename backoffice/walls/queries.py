"""Reads for the Chinese walls: the live walls section, a person as the rules see them, the
lists and reports. Checked reads of walled data are in ``services`` (they record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from backoffice.access.queries import get_actor_facts
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.core.actors import ActorFacts
from backoffice.core.walls import (
    Crossing,
    Datum,
    Kind,
    ReadAllowed,
    Reader,
    WallPosition,
    Walls,
    check_read,
)
from backoffice.org.queries import derived_from_live_policy
from backoffice.walls.models import (
    AccessRecord,
    DealProject,
    IssuerDocument,
    ListEntry,
    ProjectMember,
    WallCrossing,
)

__all__ = [
    "actor_wall",
    "MANAGE_PERMISSION",
    "get_walls",
    "get_reader",
    "READ_PERMISSION",
    "access_walls_admin",
    "may_read_walls",
    "get_list",
    "listed_issuers",
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


def get_crossings() -> QuerySet[WallCrossing]:
    return WallCrossing.objects.select_related("user__profile", "project__issuer")


def get_denials() -> QuerySet[AuditEvent]:
    """Every refusal by the walls, from the audit trail: reads, starts, releases, lists."""
    return AuditEvent.objects.filter(
        Q(after__code__startswith="wall.") | Q(action="walls.denied")
    ).order_by("-seq")


def get_readable_documents(actor: Actor) -> list[IssuerDocument]:
    """Documents the actor could open now: titles are shown only of what the wall lets
    through (listing adds nothing to the Brewer–Nash history; opening does)."""
    walls = get_walls()
    now = timezone.now()
    reader = actor.wall.reader
    return [
        d
        for d in IssuerDocument.objects.select_related("issuer")
        if isinstance(
            check_read(walls, reader, Datum(d.issuer.key, d.area, Kind(d.kind)), now), ReadAllowed
        )
    ]
