"""The walls' reports as rows: the API returns them, the pages show them, CSV writes them.

Each builder returns schema objects; their fields are the CSV columns, so the API, the
pages and the CSV files always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from backoffice.walls.models import DealProject, IssuerDocument, ListEntry, WallCrossing
from backoffice.walls.queries import (
    get_crossings,
    get_denials,
    get_list,
)
from backoffice.walls.schemas import (
    CrossingOut,
    DenialOut,
    DocumentOut,
    DocumentSummaryOut,
    InsiderOut,
    ProjectOut,
    RestrictedEntryOut,
    WatchEntryOut,
)

__all__ = [
    "restricted_list",
    "entry_out",
    "watch_list",
    "project_out",
    "insider_list",
    "crossing_out",
    "crossings",
    "denials",
    "document_summary",
    "document_out",
]


def restricted_list() -> list[RestrictedEntryOut]:
    """One row per restricted issuer (several projects may list it), longest listed first."""
    rows: dict[str, RestrictedEntryOut] = {}
    for entry in get_list(ListEntry.Kind.RESTRICTED).order_by("since"):
        rows.setdefault(
            entry.issuer.key,
            RestrictedEntryOut(
                issuer=entry.issuer.key, issuer_name=entry.issuer.name, since=entry.since
            ),
        )
    return list(rows.values())


def entry_out(entry: ListEntry) -> WatchEntryOut:
    return WatchEntryOut(
        id=entry.pk,
        list=entry.kind,
        issuer=entry.issuer.key,
        issuer_name=entry.issuer.name,
        conflict_class=entry.issuer.conflict_class.key,
        project=entry.project.key if entry.project else None,
        since=entry.since,
        reason=entry.reason,
        added_by=entry.added_by,
    )


def watch_list() -> list[WatchEntryOut]:
    """Every current entry of both lists, with why and by whom: compliance's view."""
    entries = ListEntry.objects.filter(until__isnull=True).select_related(
        "issuer__conflict_class", "project"
    )
    return [entry_out(e) for e in entries.order_by("kind", "-since")]


def project_out(project: DealProject) -> ProjectOut:
    return ProjectOut(
        key=project.key,
        name=project.name,
        issuer=project.issuer.key,
        issuer_name=project.issuer.name,
        area=project.area,
        mandate=project.mandate,
        status=project.status,
        lead=project.lead.username,
        created=project.created,
        announced_at=project.announced_at,
        closed_at=project.closed_at,
        insiders_now=sum(r.active for r in insider_list(project)),
    )


def _name(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else user.get_username()


def insider_list(project: DealProject, at: datetime | None = None) -> list[InsiderOut]:
    """Everyone who is or was an insider of the project (MAR Art. 18), earliest first:
    deal team members and people brought over the wall."""
    at = at or timezone.now()
    rows = [
        InsiderOut(
            person=m.user.username,
            name=_name(m.user),
            how="member",
            since=m.since,
            until=m.until,
            reason=m.reason,
            approved_by=m.added_by,
            active=m.until is None,
        )
        for m in project.members.select_related("user__profile")
    ]
    rows += [
        InsiderOut(
            person=c.user.username,
            name=_name(c.user),
            how="crossing",
            since=c.valid_from,
            until=min(c.valid_to, c.ended_at) if c.ended_at else c.valid_to,
            reason=c.reason,
            approved_by=c.approved_by,
            active=c.ended_at is None and c.valid_from <= at < c.valid_to,
        )
        for c in project.crossings.select_related("user__profile")
    ]
    return sorted(rows, key=lambda r: (r.since, r.person))


def crossing_out(crossing: WallCrossing, at: datetime | None = None) -> CrossingOut:
    at = at or timezone.now()
    if crossing.ended_at is not None and crossing.end_reason != "expired":
        state = "ended"
    elif crossing.ended_at is not None or crossing.valid_to <= at:
        state = "expired"
    else:
        state = "active"
    return CrossingOut(
        id=crossing.pk,
        person=crossing.user.username,
        name=_name(crossing.user),
        project=crossing.project.key,
        issuer=crossing.project.issuer.key,
        valid_from=crossing.valid_from,
        valid_to=crossing.valid_to,
        state=state,
        ended_at=crossing.ended_at,
        end_reason=crossing.end_reason,
        reason=crossing.reason,
        requested_by=crossing.requested_by,
        approved_by=crossing.approved_by,
        case=crossing.case_id,
    )


def crossings() -> list[CrossingOut]:
    now = timezone.now()
    return [crossing_out(c, now) for c in get_crossings()]


def denials(limit: int = 1000) -> list[DenialOut]:
    return [
        DenialOut(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            object=f"{event.object_type}:{event.object_id}",
            code=(event.after or {}).get("code") or "wall.forbidden",
            message=(event.after or {}).get("message") or event.reason,
        )
        for event in get_denials()[:limit]
    ]


def document_summary(document: IssuerDocument) -> DocumentSummaryOut:
    return DocumentSummaryOut(
        id=document.pk,
        issuer=document.issuer.key,
        area=document.area,
        kind=document.kind,
        title=document.title,
        author=document.author,
        created=document.created,
    )


def document_out(document: IssuerDocument) -> DocumentOut:
    return DocumentOut(**document_summary(document).model_dump(), body=document.body)
