"""The four-eyes API: processes, cases, actions, delegations. Thin: services decide."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, Later, idempotent
from backoffice.base.pages import PageIn, keyset, link_next
from backoffice.cases.models import Delegation
from backoffice.cases.present import case_out, process_out, summary_out
from backoffice.cases.queries import (
    DELEGATION_ORDER,
    access_case_by_id,
    delegations_of,
    get_inbox,
    live_processes,
    visible_cases,
)
from backoffice.cases.schemas import (
    ActionIn,
    CaseAmendIn,
    CaseIn,
    CaseOut,
    CasePageOut,
    DelegationIn,
    DelegationOut,
    ProcessOut,
)
from backoffice.cases.services import (
    do_command,
    do_create_delegation,
    do_end_delegation,
    do_start_case,
)
from backoffice.core.four_eyes import Command, CommandKind

__all__ = ["router"]

router = Router(tags=["cases"])


def _rebuild(request: HttpRequest) -> Any:
    """A retry's answer when the first one is not stored yet: the case as it is now."""

    def case_now(ref: dict[str, Any]) -> CaseOut:
        actor = actor_of(request)
        return case_out(access_case_by_id(actor, int(ref["case"])), actor)

    return case_now


@router.get("/processes", response={200: list[ProcessOut], **PROBLEMS}, summary="Processes")
def list_processes(request: HttpRequest) -> list[ProcessOut]:
    return [process_out(p) for p in live_processes().values()]


@router.post("/cases", response={201: CaseOut, **PROBLEMS}, summary="Start a case")
def start_case(request: HttpRequest, body: CaseIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        actor = actor_of(request)
        outcome = do_start_case(
            actor, body.process, body.payload, submit=body.submit, comment=body.comment
        )
        case = outcome.raise_if_denied()
        return Later(201, {"case": case.pk}, lambda: case_out(case, actor))

    return idempotent(request, run, _rebuild(request))


class CaseFilter(Schema):
    state: str | None = None
    process: str | None = None
    actionable: bool = False
    mine: bool = False
    cursor: int | None = None
    limit: int = 50


@router.get("/cases", response={200: CasePageOut, **PROBLEMS}, summary="Cases I may see")
def list_cases(request: HttpRequest, filters: Query[CaseFilter]) -> CasePageOut:
    limit = max(1, min(filters.limit, 200))
    actor = actor_of(request)
    if filters.actionable:
        inbox = get_inbox(actor, filters.cursor, limit)
        return CasePageOut(
            items=[summary_out(c) for c in inbox.cases], next_cursor=inbox.next_cursor
        )
    cases = visible_cases(actor)
    if filters.state:
        cases = cases.filter(status=filters.state)
    if filters.process:
        cases = cases.filter(process__key=filters.process)
    if filters.mine:
        cases = cases.filter(maker_id=actor.pk)
    if filters.cursor:
        cases = cases.filter(pk__gt=filters.cursor)
    page = list(cases.select_related("process", "maker").order_by("pk")[: limit + 1])
    next_cursor = page[limit - 1].pk if len(page) > limit else None
    return CasePageOut(items=[summary_out(c) for c in page[:limit]], next_cursor=next_cursor)


@router.get("/cases/{case_id}", response={200: CaseOut, **PROBLEMS}, summary="One case")
def get_case(request: HttpRequest, case_id: int) -> CaseOut:
    actor = actor_of(request)
    return case_out(access_case_by_id(actor, case_id), actor)


@router.patch("/cases/{case_id}", response={200: CaseOut, **PROBLEMS}, summary="Amend the payload")
def amend_case(request: HttpRequest, case_id: int, body: CaseAmendIn) -> CaseOut:
    actor = actor_of(request)
    case = access_case_by_id(actor, case_id)
    command = Command(CommandKind.AMEND, body.comment, body.payload)
    do_command(actor, case, command).raise_if_denied()
    return case_out(case, actor)


@router.post(
    "/cases/{case_id}/actions", response={200: CaseOut, **PROBLEMS}, summary="Act on a case"
)
def act_on_case(request: HttpRequest, case_id: int, body: ActionIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        actor = actor_of(request)
        case = access_case_by_id(actor, case_id)
        command = Command(
            CommandKind(body.action),
            comment=body.comment,
            on_behalf_of=body.on_behalf_of,
            seen_payload_hash=body.payload_hash,
        )
        do_command(actor, case, command).raise_if_denied()
        return Later(200, {"case": case.pk}, lambda: case_out(case, actor))

    return idempotent(request, run, _rebuild(request))


def delegation_out(row: Delegation) -> DelegationOut:
    return DelegationOut(
        id=row.pk,
        principal=row.principal.username,
        substitute=row.substitute.username,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        reason=row.reason,
        ended=row.ended_at is not None,
    )


@router.get(
    "/delegations",
    response={200: list[DelegationOut], **PROBLEMS},
    tags=["delegations"],
    summary="Delegations given and received",
)
def list_delegations(
    request: HttpRequest, response: HttpResponse, page: Query[PageIn]
) -> list[DelegationOut]:
    """The latest start first; the next page is in the ``Link`` header."""
    found = keyset(delegations_of(actor_of(request)), DELEGATION_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [delegation_out(r) for r in found.items]


@router.post(
    "/delegations",
    response={201: DelegationOut, **PROBLEMS},
    tags=["delegations"],
    summary="Name a substitute",
)
def create_delegation(request: HttpRequest, body: DelegationIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        row = do_create_delegation(
            actor_of(request), body.substitute, body.valid_from, body.valid_to, reason=body.reason
        )
        return 201, delegation_out(row)

    return idempotent(request, run)


@router.post(
    "/delegations/{delegation_id}/end",
    response={200: DelegationOut, **PROBLEMS},
    tags=["delegations"],
    summary="End a delegation early",
)
def end_delegation(request: HttpRequest, delegation_id: int) -> DelegationOut:
    return delegation_out(do_end_delegation(actor_of(request), delegation_id))
