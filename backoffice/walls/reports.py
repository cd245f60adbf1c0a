"""The walls' reports as rows: the API returns them, the pages show them, CSV writes them.

Each report is a query in a fixed order (``*_ORDER``, ending with a unique field, so that a
page is a keyset query: ``base.pages``) and a builder of schema objects from its rows; the
schema's fields are the CSV columns, so the API, the pages and the CSV files always agree.
A CSV download is the whole report (``every``), streamed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.base.sorting import Sorting
from backoffice.core.walls import Walls
from backoffice.walls.models import (
    DealProject,
    FactCheck,
    Issuer,
    IssuerDocument,
    ListEntry,
    PadOrder,
    WallCrossing,
)
from backoffice.walls.queries import (
    Insider,
    get_all_insiders,
    get_crossings,
    get_denials,
    get_issuers,
    get_projects,
    get_restricted_issuers,
)
from backoffice.walls.schemas import (
    AttestationRowOut,
    CrossingOut,
    DenialOut,
    DocumentOut,
    DocumentSummaryOut,
    FactCheckOut,
    InsiderOut,
    IssuerOut,
    PadOrderControlOut,
    PadOrderOut,
    ProjectOut,
    RestrictedEntryOut,
    WatchEntryOut,
)

__all__ = [
    "ISSUER_ORDER",
    "RESTRICTED_ORDER",
    "WATCH_ORDER",
    "PROJECT_ORDER",
    "CROSSING_ORDER",
    "DENIAL_ORDER",
    "DOCUMENT_ORDER",
    "every",
    "issuers",
    "issuer_out",
    "restricted_list",
    "restricted_out",
    "entry_out",
    "watch_list",
    "projects",
    "project_out",
    "insider_out",
    "insider_list",
    "crossing_out",
    "crossings",
    "denials",
    "denial_out",
    "document_summary",
    "document_out",
]

M = TypeVar("M", bound=Model)
S = TypeVar("S")

#: Issuers by name.
ISSUER_ORDER = ("name", "pk")
#: Longest restricted first.
RESTRICTED_ORDER = ("since", "pk")
#: The restricted list's entries, then the watch list's; newest first in each.
WATCH_ORDER = ("kind", "-since", "-pk")
#: Deal projects by name.
PROJECT_ORDER = ("name", "pk")
#: Newest first.
CROSSING_ORDER = ("-valid_from", "-pk")
#: Newest first (the audit trail's sequence number is the key).
DENIAL_ORDER = ("-seq",)
#: #19: the sortable columns of the restricted list, the crossings and the refusals
RESTRICTED_SORTING = Sorting(Issuer, {"issuer": ("name",), "since": ("since",)}, RESTRICTED_ORDER)
CROSSING_SORTING = Sorting(
    WallCrossing,
    {
        "who": ("user__username",),
        "project": ("project__name",),
        "from": ("valid_from",),
        "until": ("valid_to",),
    },
    CROSSING_ORDER,
    descending_first=frozenset({"from", "until"}),
)
#: The overview's projects: grouped by state, then by name, unless a header sorts them.
PROJECT_SORTING = Sorting(
    DealProject,
    {
        "project": ("name",),
        "issuer": ("issuer__name",),
        "mandate": ("mandate",),
        "state": ("status",),
        "lead": ("lead__username",),
    },
    ("status", "name", "pk"),
)
DENIAL_SORTING = Sorting(
    AuditEvent,
    {"seq": ("seq",), "at": ("at",), "who": ("actor",), "what": ("action",)},
    DENIAL_ORDER,
    tiebreak="seq",
    descending_first=frozenset({"seq", "at"}),
)
#: Newest first.
DOCUMENT_ORDER = ("-created", "-pk")


def every(rows: QuerySet[M], order: Sequence[str], out: Callable[[M], S]) -> Iterator[S]:
    """The whole report, row by row as the database hands them over (for a CSV download)."""
    for row in rows.order_by(*order).iterator(chunk_size=500):
        yield out(row)


def issuers() -> QuerySet[Issuer]:
    return get_issuers()


def issuer_out(issuer: Issuer, walls: Walls) -> IssuerOut:
    return IssuerOut(
        key=issuer.key,
        name=issuer.name,
        conflict_class=issuer.conflict_class.key,
        conflict_class_name=walls.class_names.get(issuer.conflict_class.key, ""),
    )


def restricted_list() -> QuerySet[Issuer]:
    """One row per restricted issuer (several projects may list it), longest listed first."""
    return get_restricted_issuers().order_by(*RESTRICTED_ORDER)


def restricted_out(issuer: Issuer) -> RestrictedEntryOut:
    since: datetime = issuer.since  # type: ignore[attr-defined]  # annotated by the query
    return RestrictedEntryOut(issuer=issuer.key, issuer_name=issuer.name, since=since)


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


def watch_list() -> QuerySet[ListEntry]:
    """Every current entry of both lists, with why and by whom: compliance's view."""
    entries = ListEntry.objects.filter(until__isnull=True).select_related(
        "issuer__conflict_class", "project"
    )
    return entries.order_by(*WATCH_ORDER)


def projects() -> QuerySet[DealProject]:
    """Deal projects, each with how many insiders it has now."""
    return get_projects().order_by(*PROJECT_ORDER)


def project_out(project: DealProject) -> ProjectOut:
    """A project as the reports show it; ``insiders_now`` from ``projects()`` if it came
    from there, else counted by the same query."""
    insiders_now = getattr(project, "insiders_now", None)
    if insiders_now is None:
        counted = get_projects().get(pk=project.pk)
        insiders_now = counted.insiders_now  # type: ignore[attr-defined]  # annotated
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
        insiders_now=insiders_now,
    )


def _name(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else user.get_username()


def insider_out(row: Insider, at: datetime | None = None) -> InsiderOut:
    """One line of the insider list: a deal team member or someone brought over the wall."""
    if isinstance(row, WallCrossing):
        at = at or timezone.now()
        return InsiderOut(
            person=row.user.username,
            name=_name(row.user),
            how="crossing",
            since=row.valid_from,
            until=min(row.valid_to, row.ended_at) if row.ended_at else row.valid_to,
            reason=row.reason,
            approved_by=row.approved_by,
            active=row.ended_at is None and row.valid_from <= at < row.valid_to,
        )
    return InsiderOut(
        person=row.user.username,
        name=_name(row.user),
        how="member",
        since=row.since,
        until=row.until,
        reason=row.reason,
        approved_by=row.added_by,
        active=row.until is None,
    )


def insider_list(project: DealProject, at: datetime | None = None) -> list[InsiderOut]:
    """Everyone who is or was an insider of the project (MAR Art. 18), earliest first:
    deal team members and people brought over the wall (in the order of its pages)."""
    at = at or timezone.now()
    return [insider_out(row, at) for row in get_all_insiders(project)]


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


def crossings() -> QuerySet[WallCrossing]:
    """Every wall crossing, running and past, newest first (CW-2)."""
    return get_crossings().order_by(*CROSSING_ORDER)


def denials() -> QuerySet[AuditEvent]:
    """Every refusal by the walls, newest first, from the audit trail."""
    return get_denials().order_by(*DENIAL_ORDER)


def denial_out(event: AuditEvent) -> DenialOut:
    return DenialOut(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        object=f"{event.object_type}:{event.object_id}",
        code=(event.after or {}).get("code") or "wall.forbidden",
        message=(event.after or {}).get("message") or event.reason,
    )


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


# -- #17 research publication, personal account dealing --------------------------------------

#: personal orders, newest first
PAD_ORDER = ("-placed_at", "-pk")


def fact_check_out(sent: FactCheck) -> FactCheckOut:
    return FactCheckOut(
        id=sent.pk,
        case=sent.case_id,
        issuer=sent.issuer.key,
        headline=sent.headline,
        body=sent.body,
        sent_by=sent.sent_by,
        sent_at=sent.sent_at,
    )


def _pad_fields(order: PadOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "issuer": order.issuer.key,
        "issuer_name": order.issuer.name,
        "side": order.side,
        "quantity": order.quantity,
        "placed_at": order.placed_at,
        "status": order.status,
        "code": order.code,
        "message": order.message,
        "cleared_by": order.cleared_by,
        "cleared_at": order.cleared_at,
    }


def pad_order_out(order: PadOrder) -> PadOrderOut:
    return PadOrderOut(**_pad_fields(order))


def pad_order_control_out(order: PadOrder) -> PadOrderControlOut:
    return PadOrderControlOut(
        **_pad_fields(order),
        employee=order.employee.get_username(),
        alerted=order.alerted,
        clearance_case=order.clearance_id,
    )


def attestation_out(user: Any, year: int, quarter: int) -> AttestationRowOut:
    profile = getattr(user, "profile", None)
    return AttestationRowOut(
        employee=user.get_username(),
        name=profile.display_name if profile else user.get_username(),
        year=year,
        quarter=quarter,
        orders=user.orders,
        executed=user.executed,
        blocked=user.blocked,
        cleared=user.cleared,
        alerts=user.alerts,
        attested_at=user.attested_at,
    )
