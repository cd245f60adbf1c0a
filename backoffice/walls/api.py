"""The Chinese walls API (#8): lists, deal projects and insider lists, crossings, refusals,
documents. Thin: the services decide and record. Reports come as JSON and as CSV.

Every list is paged (``?after=&limit=``, the next page in the ``Link`` header, #14); a CSV
download is the whole list, streamed.

Everyone reads the restricted list and the issuers; everything else here that is not a
checked read of walled data (documents) is for compliance (``walls.manage``), and any
other caller's attempt is refused with ``wall.forbidden`` and recorded.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, csv_response, idempotent
from backoffice.base.pages import PageIn, keyset, link_next
from backoffice.walls import reports
from backoffice.walls.models import DealProject, ListEntry
from backoffice.walls.queries import (
    access_walls_admin,
    get_insider_page,
    get_readable_documents,
    get_walls,
)
from backoffice.walls.schemas import (
    CrossingOut,
    DenialOut,
    DocumentIn,
    DocumentOut,
    DocumentSummaryOut,
    HistoryResetIn,
    HistoryResetOut,
    InsiderOut,
    InsidersOut,
    IssuerOut,
    ListEntryIn,
    MemberIn,
    ProjectOut,
    ReasonIn,
    RestrictedEntryOut,
    WatchEntryOut,
)
from backoffice.walls.services import (
    access_document_by_id,
    do_add_member,
    do_announce_project,
    do_close_project,
    do_create_document,
    do_delist,
    do_end_crossing,
    do_list_issuer,
    do_reset_history,
    get_project,
)

__all__ = ["router"]

router = Router(tags=["walls"])

CSV = {200: {"description": "CSV, one header row", "content": {"text/csv": {}}}}


def _csv_operation(summary: str) -> dict[str, Any]:
    return {
        "response": {**PROBLEMS},
        "summary": summary,
        "openapi_extra": {"responses": CSV},
    }


# -- lists -------------------------------------------------------------------------------


@router.get(
    "/walls/issuers",
    response={200: list[IssuerOut], **PROBLEMS},
    summary="Issuers and classes, by name",
)
def list_issuers(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[IssuerOut]:
    found = keyset(reports.issuers(), reports.ISSUER_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    walls = get_walls()
    return [reports.issuer_out(i, walls) for i in found.items]


@router.get(
    "/walls/restricted-list",
    response={200: list[RestrictedEntryOut], **PROBLEMS},
    summary="The restricted list (firm-wide, CW-3), longest restricted first",
)
def restricted_list(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[RestrictedEntryOut]:
    found = keyset(reports.restricted_list(), reports.RESTRICTED_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.restricted_out(i) for i in found.items]


@router.get("/walls/restricted-list.csv", **_csv_operation("The restricted list as CSV"))
def restricted_list_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows = reports.every(
        reports.restricted_list(), reports.RESTRICTED_ORDER, reports.restricted_out
    )
    return csv_response("restricted-list.csv", rows, RestrictedEntryOut)


@router.get(
    "/walls/watch-list",
    response={200: list[WatchEntryOut], **PROBLEMS},
    summary="Watch and restricted list entries with their reasons (compliance, CW-4)",
)
def watch_list(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[WatchEntryOut]:
    access_walls_admin(actor_of(request), "watch list", read_only=True)
    found = keyset(reports.watch_list(), reports.WATCH_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.entry_out(e) for e in found.items]


@router.get("/walls/watch-list.csv", **_csv_operation("The watch list as CSV (compliance)"))
def watch_list_csv(request: HttpRequest) -> StreamingHttpResponse:
    access_walls_admin(actor_of(request), "watch list", read_only=True)
    rows = reports.every(reports.watch_list(), reports.WATCH_ORDER, reports.entry_out)
    return csv_response("watch-list.csv", rows, WatchEntryOut)


@router.post(
    "/walls/watch-list",
    response={201: WatchEntryOut, **PROBLEMS},
    summary="Put an issuer on the watch list (compliance)",
)
def add_to_watch_list(request: HttpRequest, body: ListEntryIn) -> HttpResponse:
    return _listed(request, ListEntry.Kind.WATCH, body)


@router.post(
    "/walls/restricted-list",
    response={201: WatchEntryOut, **PROBLEMS},
    summary="Put an issuer on the restricted list (compliance)",
)
def add_to_restricted_list(request: HttpRequest, body: ListEntryIn) -> HttpResponse:
    return _listed(request, ListEntry.Kind.RESTRICTED, body)


def _listed(request: HttpRequest, kind: str, body: ListEntryIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        entry = do_list_issuer(kind, body.issuer, reason=body.reason, actor=actor_of(request))
        return 201, reports.entry_out(entry)

    return idempotent(request, run)


@router.post(
    "/walls/list-entries/{entry_id}/remove",
    response={200: WatchEntryOut, **PROBLEMS},
    summary="Take an entry off its list (compliance)",
)
def remove_list_entry(request: HttpRequest, entry_id: int, body: ReasonIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        entry = do_delist(entry_id, reason=body.reason, actor=actor_of(request))
        return 200, reports.entry_out(entry)

    return idempotent(request, run)


# -- deal projects and insider lists --------------------------------------------------------


def _managed_project(request: HttpRequest, key: str) -> DealProject:
    access_walls_admin(actor_of(request), "deal projects", read_only=True)
    return get_project(key)


@router.get(
    "/walls/projects",
    response={200: list[ProjectOut], **PROBLEMS},
    summary="Deal projects (compliance)",
)
def list_projects(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[ProjectOut]:
    access_walls_admin(actor_of(request), "deal projects", read_only=True)
    found = keyset(reports.projects(), reports.PROJECT_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.project_out(p) for p in found.items]


@router.get(
    "/walls/projects/{key}/insiders",
    response={200: list[InsiderOut], **PROBLEMS},
    summary="A project's insider list: who, since when, why (compliance, MAR Art. 18)",
)
def project_insiders(
    request: HttpRequest, key: str, response: HttpResponse, page: Query[PageIn]
) -> list[InsiderOut]:
    project = _managed_project(request, key)
    found = get_insider_page(project, page.after, page.limit)
    link_next(request, response, found.next)
    now = timezone.now()
    return [reports.insider_out(i, now) for i in found.items]


@router.get(
    "/walls/projects/{key}/insiders.csv", **_csv_operation("A project's insider list as CSV")
)
def project_insiders_csv(request: HttpRequest, key: str) -> StreamingHttpResponse:
    project = _managed_project(request, key)
    return csv_response(f"insiders-{project.key}.csv", reports.insider_list(project), InsiderOut)


@router.post(
    "/walls/projects/{key}/members",
    response={201: InsidersOut, **PROBLEMS},
    summary="Add a deal team member from inside the wall (compliance)",
)
def add_member(request: HttpRequest, key: str, body: MemberIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        member = do_add_member(key, body.person, reason=body.reason, actor=actor_of(request))
        return 201, InsidersOut(items=reports.insider_list(member.project))

    return idempotent(request, run)


@router.post(
    "/walls/projects/{key}/announce",
    response={200: ProjectOut, **PROBLEMS},
    summary="The mandate is public: watch list to restricted list (compliance)",
)
def announce_project(request: HttpRequest, key: str, body: ReasonIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        project = do_announce_project(key, reason=body.reason, actor=actor_of(request))
        return 200, reports.project_out(project)

    return idempotent(request, run)


@router.post(
    "/walls/projects/{key}/close",
    response={200: ProjectOut, **PROBLEMS},
    summary="Close a project: its insiders and crossings end (compliance)",
)
def close_project(request: HttpRequest, key: str, body: ReasonIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        project = do_close_project(key, reason=body.reason, actor=actor_of(request))
        return 200, reports.project_out(project)

    return idempotent(request, run)


# -- crossings and refusals ------------------------------------------------------------------


@router.get(
    "/walls/crossings",
    response={200: list[CrossingOut], **PROBLEMS},
    summary="Wall crossings, newest first (compliance, CW-2)",
)
def list_crossings(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[CrossingOut]:
    access_walls_admin(actor_of(request), "wall crossings", read_only=True)
    found = keyset(reports.crossings(), reports.CROSSING_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    now = timezone.now()
    return [reports.crossing_out(c, now) for c in found.items]


@router.get("/walls/crossings.csv", **_csv_operation("Wall crossings as CSV (compliance)"))
def crossings_csv(request: HttpRequest) -> StreamingHttpResponse:
    access_walls_admin(actor_of(request), "wall crossings", read_only=True)
    now = timezone.now()
    rows = reports.every(
        reports.crossings(), reports.CROSSING_ORDER, lambda c: reports.crossing_out(c, now)
    )
    return csv_response("wall-crossings.csv", rows, CrossingOut)


@router.post(
    "/walls/crossings/{crossing_id}/end",
    response={200: CrossingOut, **PROBLEMS},
    summary="End a wall crossing early (compliance)",
)
def end_crossing(request: HttpRequest, crossing_id: int, body: ReasonIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        crossing = do_end_crossing(crossing_id, reason=body.reason, actor=actor_of(request))
        return 200, reports.crossing_out(crossing)

    return idempotent(request, run)


@router.get(
    "/walls/denials",
    response={200: list[DenialOut], **PROBLEMS},
    summary="Refused reads and actions of the walls, newest first (compliance)",
)
def list_denials(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[DenialOut]:
    access_walls_admin(actor_of(request), "refused access attempts", read_only=True)
    found = keyset(reports.denials(), reports.DENIAL_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.denial_out(e) for e in found.items]


@router.get("/walls/denials.csv", **_csv_operation("Refused access attempts as CSV (compliance)"))
def denials_csv(request: HttpRequest) -> StreamingHttpResponse:
    access_walls_admin(actor_of(request), "refused access attempts", read_only=True)
    rows = reports.every(reports.denials(), reports.DENIAL_ORDER, reports.denial_out)
    return csv_response("wall-denials.csv", rows, DenialOut)


@router.post(
    "/walls/histories/{person}/reset",
    response={200: HistoryResetOut, **PROBLEMS},
    summary="Reset a person's Brewer–Nash history in one class (compliance, BN-1)",
)
def reset_history(request: HttpRequest, person: str, body: HistoryResetIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        count = do_reset_history(
            person, body.conflict_class, reason=body.reason, actor=actor_of(request)
        )
        return 200, HistoryResetOut(person=person, conflict_class=body.conflict_class, reset=count)

    return idempotent(request, run)


# -- documents: checked reads of walled data -------------------------------------------------


@router.get(
    "/walls/documents",
    response={200: list[DocumentSummaryOut], **PROBLEMS},
    summary="Documents I may read now, newest first (titles only; opening one is the checked read)",
)
def list_documents(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[DocumentSummaryOut]:
    readable = get_readable_documents(actor_of(request))
    found = keyset(readable, reports.DOCUMENT_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.document_summary(d) for d in found.items]


@router.get(
    "/walls/documents/{document_id}",
    response={200: DocumentOut, **PROBLEMS},
    summary="Read a document (CW-1, CW-2, BN-1; a refusal is recorded)",
)
def get_document(request: HttpRequest, document_id: int) -> DocumentOut:
    return reports.document_out(access_document_by_id(actor_of(request), document_id))


@router.post(
    "/walls/documents",
    response={201: DocumentOut, **PROBLEMS},
    summary="File a document about an issuer in an area (BN-1 *-property)",
)
def create_document(request: HttpRequest, body: DocumentIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        document = do_create_document(
            actor_of(request),
            issuer=body.issuer,
            area=body.area,
            kind=body.kind,
            title=body.title,
            body=body.body,
        )
        return 201, reports.document_out(document)

    return idempotent(request, run)
