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
from backoffice.base.http import PROBLEMS, csv_download, csv_response, idempotent
from backoffice.base.pages import PageIn, keyset, link_next
from backoffice.walls import reports
from backoffice.walls.insider_export import do_note_export, insider_list_rows, insider_list_xlsx
from backoffice.walls.models import DealProject, ListEntry
from backoffice.walls.pad import (
    ATTESTATION_ORDER,
    attestation_report,
    current_quarter,
    do_attest,
    do_place_order,
    do_request_clearance,
    get_orders,
)
from backoffice.walls.queries import (
    access_walls_admin,
    get_insider_page,
    get_readable_documents,
    get_walls,
)
from backoffice.walls.research import access_research_draft, do_send_fact_check, get_fact_checks
from backoffice.walls.schemas import (
    AttestationIn,
    AttestationOut,
    AttestationRowOut,
    CaseRefOut,
    CrossingOut,
    DenialOut,
    DocumentIn,
    DocumentOut,
    DocumentSummaryOut,
    FactCheckOut,
    HistoryResetIn,
    HistoryResetOut,
    InsiderOut,
    InsidersOut,
    IssuerOut,
    ListEntryIn,
    MemberIn,
    PadClearanceIn,
    PadOrderControlOut,
    PadOrderIn,
    PadOrderOut,
    ProjectOut,
    QuarterIn,
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
    do_remove_member,
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
def restricted_list_csv(request: HttpRequest, sort: str = "") -> StreamingHttpResponse:
    """#19: ``sort`` as the page's column headers give it, so the file is in the page's order."""
    order = reports.RESTRICTED_SORTING.parse(sort).order
    rows = reports.every(reports.restricted_list(), order, reports.restricted_out)
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
def crossings_csv(request: HttpRequest, sort: str = "") -> StreamingHttpResponse:
    """#19: ``sort`` as the page's column headers give it, so the file is in the page's order."""
    access_walls_admin(actor_of(request), "wall crossings", read_only=True)
    order = reports.CROSSING_SORTING.parse(sort).order
    now = timezone.now()
    rows = reports.every(reports.crossings(), order, lambda c: reports.crossing_out(c, now))
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
def denials_csv(request: HttpRequest, sort: str = "") -> StreamingHttpResponse:
    """#19: ``sort`` as the page's column headers give it, so the file is in the page's order."""
    access_walls_admin(actor_of(request), "refused access attempts", read_only=True)
    order = reports.DENIAL_SORTING.parse(sort).order
    rows = reports.every(reports.denials(), order, reports.denial_out)
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


# -- #17 research publication ----------------------------------------------------------------


@router.post(
    "/walls/research/{case_id}/fact-check",
    response={201: FactCheckOut, **PROBLEMS},
    summary="Send a research draft to its issuer for a fact check: the system's version "
    "without rating, price target and valuation (RES-2)",
)
def send_fact_check(request: HttpRequest, case_id: int) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        return 201, reports.fact_check_out(do_send_fact_check(actor_of(request), case_id))

    return idempotent(request, run)


@router.get(
    "/walls/research/{case_id}/fact-checks",
    response={200: list[FactCheckOut], **PROBLEMS},
    summary="The fact-check versions sent for a research draft",
)
def list_fact_checks(
    request: HttpRequest, case_id: int, response: HttpResponse, page: Query[PageIn]
) -> list[FactCheckOut]:
    access_research_draft(actor_of(request), case_id)  # the wall decides who sees it
    found = keyset(get_fact_checks(case_id), ("-sent_at", "-pk"), page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.fact_check_out(f) for f in found.items]


# -- #17 personal account dealing --------------------------------------------------------------


@router.post(
    "/walls/pad/orders",
    response={201: PadOrderOut, **PROBLEMS},
    summary="Place a personal order: pre-cleared at once, executed or blocked (PAD-1 to PAD-5)",
)
def place_pad_order(request: HttpRequest, body: PadOrderIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        order = do_place_order(
            actor_of(request), issuer=body.issuer, side=body.side, quantity=body.quantity
        )
        return 201, reports.pad_order_out(order)

    return idempotent(request, run)


@router.get(
    "/walls/pad/orders",
    response={200: list[PadOrderOut], **PROBLEMS},
    summary="My personal orders, newest first",
)
def my_pad_orders(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[PadOrderOut]:
    rows = get_orders(actor_of(request))
    found = keyset(rows, reports.PAD_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.pad_order_out(o) for o in found.items]


@router.get(
    "/walls/pad/all-orders",
    response={200: list[PadOrderControlOut], **PROBLEMS},
    summary="Every employee's personal orders, newest first (compliance and audit)",
)
def all_pad_orders(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[PadOrderControlOut]:
    rows = get_orders(actor_of(request), everyone=True)
    found = keyset(rows, reports.PAD_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.pad_order_control_out(o) for o in found.items]


@router.get(
    "/walls/pad/all-orders.csv",
    **_csv_operation("Every employee's personal orders as CSV (compliance and audit)"),
)
def all_pad_orders_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows = get_orders(actor_of(request), everyone=True)
    out = reports.every(rows, reports.PAD_ORDER, reports.pad_order_control_out)
    return csv_response("personal-orders.csv", out, PadOrderControlOut)


@router.post(
    "/walls/pad/orders/{order_id}/clearance",
    response={201: CaseRefOut, **PROBLEMS},
    summary="Ask to clear one blocked order; a second compliance officer releases (PAD-3)",
)
def request_pad_clearance(
    request: HttpRequest, order_id: int, body: PadClearanceIn
) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        case = do_request_clearance(order_id, reason=body.reason, actor=actor_of(request))
        return 201, CaseRefOut(case=case)

    return idempotent(request, run)


@router.post(
    "/walls/pad/attestations",
    response={201: AttestationOut, **PROBLEMS},
    summary="Attest that my personal orders of a quarter are complete",
)
def attest_quarter(request: HttpRequest, body: AttestationIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        done = do_attest(actor_of(request), body.year, body.quarter)
        return 201, AttestationOut(
            employee=done.employee.get_username(),
            year=done.year,
            quarter=done.quarter,
            orders=done.orders,
            attested_at=done.attested_at,
        )

    return idempotent(request, run)


@router.get(
    "/walls/pad/attestation-report",
    response={200: list[AttestationRowOut], **PROBLEMS},
    summary="Attestation report: every employee's orders and attestation in a quarter "
    "(compliance and audit)",
)
def attestation_report_api(
    request: HttpRequest, response: HttpResponse, quarter: Query[QuarterIn], page: Query[PageIn]
) -> list[AttestationRowOut]:
    access_walls_admin(actor_of(request), "attestation report", read_only=True)
    year, number = _quarter(quarter)
    rows = attestation_report(year, number)
    found = keyset(rows, ATTESTATION_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [reports.attestation_out(u, year, number) for u in found.items]


def _quarter(asked: QuarterIn) -> tuple[int, int]:
    year, number = current_quarter()
    return asked.year or year, asked.quarter or number


@router.get(
    "/walls/pad/attestation-report.csv",
    **_csv_operation("The attestation report of a quarter as CSV (compliance and audit)"),
)
def attestation_report_csv(
    request: HttpRequest, quarter: Query[QuarterIn]
) -> StreamingHttpResponse:
    access_walls_admin(actor_of(request), "attestation report", read_only=True)
    year, number = _quarter(quarter)
    rows = attestation_report(year, number)
    out = reports.every(rows, ATTESTATION_ORDER, lambda u: reports.attestation_out(u, year, number))
    name = f"pad-attestations-{year}-q{number}.csv"
    return csv_response(name, out, AttestationRowOut)


# -- #17 insider lists (Regulation (EU) 2016/347) -----------------------------------------------


@router.get(
    "/walls/projects/{key}/insider-list.csv",
    **_csv_operation(
        "A project's insider list in the templates of Regulation (EU) 2016/347, with the "
        "permanent insiders section (compliance and audit)"
    ),
)
def insider_list_csv(request: HttpRequest, key: str) -> StreamingHttpResponse:
    project = _managed_project(request, key)
    do_note_export(actor_of(request), project, "csv")
    rows = insider_list_rows(project)
    head = next(rows)
    return csv_download(f"insider-list-{project.key}.csv", head, rows)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/walls/projects/{key}/insider-list.xlsx",
    response={**PROBLEMS},
    summary="A project's insider list as XLSX: the deal section and the permanent insiders "
    "(Regulation (EU) 2016/347; compliance and audit)",
    openapi_extra={
        "responses": {200: {"description": "XLSX, two sheets", "content": {XLSX_TYPE: {}}}}
    },
)
def insider_list_xlsx_api(request: HttpRequest, key: str) -> HttpResponse:
    project = _managed_project(request, key)
    do_note_export(actor_of(request), project, "xlsx")
    response = HttpResponse(insider_list_xlsx(project), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="insider-list-{project.key}.xlsx"'
    return response


@router.post(
    "/walls/projects/{key}/members/{person}/remove",
    response={200: InsidersOut, **PROBLEMS},
    summary="Take a member off the deal team: they cease to be an insider now (compliance)",
)
def remove_member(request: HttpRequest, key: str, person: str, body: ReasonIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        member = do_remove_member(key, person, reason=body.reason, actor=actor_of(request))
        return 200, InsidersOut(items=reports.insider_list(member.project))

    return idempotent(request, run)
