"""The four-eyes API: processes, cases, actions, delegations. Thin: services decide."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from backoffice.accounts.queries import get_actor_facts
from backoffice.api import PROBLEMS, idempotent
from backoffice.cases.effects import get_effect
from backoffice.cases.models import Case, Delegation, Process
from backoffice.cases.queries import (
    access_case_by_id,
    available_actions,
    domain_case,
    get_inbox,
    visible_cases,
)
from backoffice.cases.schemas import (
    ActionIn,
    ActionOut,
    ApprovalsOut,
    CaseAmendIn,
    CaseIn,
    CaseOut,
    CasePageOut,
    CaseSummaryOut,
    DelegationIn,
    DelegationOut,
    EventOut,
    FieldOut,
    ProcessOut,
    StepOut,
)
from backoffice.cases.services import (
    do_command,
    do_create_delegation,
    do_end_delegation,
    do_start_case,
)
from backoffice.core.four_eyes import Command, CommandKind

__all__ = ["router", "case_out"]

router = Router(tags=["cases"])


def process_out(process: Process) -> ProcessOut:
    spec = process.spec
    return ProcessOut(
        key=process.key,
        name=spec.name,
        description=spec.description,
        starter=spec.starter.describe(),
        payload=[
            FieldOut(
                name=f.name,
                type=f.type.value,
                label=f.title,
                help=f.help,
                required=f.required,
                choices=f.choices,
            )
            for f in spec.payload
        ],
        steps=[
            StepOut(
                id=s.id,
                name=s.name,
                action=s.action.value,
                who=s.who.describe(),
                authority=s.authority,
                tiers=[t.model_dump() for t in s.tiers],
            )
            for s in spec.steps
        ],
    )


def summary_out(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=case.pk,
        process=case.process.key,
        title=case.title,
        status=case.status,
        step=case.current_step or None,
        maker=case.maker.username,
        amount=case.amount,
        currency=case.currency,
        created=case.created,
        last_updated=case.last_updated,
    )


def case_out(case: Case, user: Any) -> CaseOut:
    """The full case: payload, approvals so far, timeline, and what the caller may do now."""
    current = domain_case(case)
    approvals = None
    step = current.current_step
    if step is not None:
        tier = current.tier(step)
        given = current.approvals(step.id)
        approvals = ApprovalsOut(
            step=step.id,
            step_name=step.name,
            tier=tier.label,
            needed=tier.approvals,
            board_needed=tier.board,
            given=len(given),
            board_given=sum(a.board for a in given),
        )
    effect = get_effect(case.spec.effect)
    timeline = [
        EventOut(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            actor=e.actor,
            on_behalf_of=e.on_behalf_of or None,
            step=e.step or None,
            payload_hash=e.payload_hash or None,
            comment=e.comment,
            board=e.board,
            tier=e.tier,
            covers_current_payload=bool(e.payload_hash) and e.payload_hash == case.payload_hash,
            denial=e.data if e.kind == "denied" else None,
            audit_seq=e.audit_seq,
        )
        for e in case.events.all()
    ]
    return CaseOut(
        **summary_out(case).model_dump(),
        payload=case.payload,
        payload_hash=case.payload_hash,
        version=case.version,
        approvals=approvals,
        preview=effect.preview(case.payload) if effect else None,
        timeline=timeline,
        actions=[ActionOut(**vars(o)) for o in available_actions(case, user)],
    )


def _reload(case_id: int, user: Any) -> CaseOut:
    return case_out(access_case_by_id(user, case_id), user)


@router.get("/processes", response={200: list[ProcessOut], **PROBLEMS}, summary="Processes")
def list_processes(request: HttpRequest) -> list[ProcessOut]:
    return [process_out(p) for p in Process.objects.filter(retired_at__isnull=True)]


@router.post("/cases", response={201: CaseOut, **PROBLEMS}, summary="Start a case")
def start_case(request: HttpRequest, body: CaseIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        outcome = do_start_case(
            body.process, body.payload, request.user, submit=body.submit, comment=body.comment
        )
        case = outcome.raise_if_denied()
        return 201, _reload(case.pk, request.user)

    return idempotent(request, run)


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
    if filters.actionable:
        items = get_inbox(request.user)
        return CasePageOut(items=[summary_out(c) for c in items], next_cursor=None)
    cases = visible_cases(request.user, get_actor_facts(request.user))
    if filters.state:
        cases = cases.filter(status=filters.state)
    if filters.process:
        cases = cases.filter(process__key=filters.process)
    if filters.mine:
        cases = cases.filter(maker=request.user)
    if filters.cursor:
        cases = cases.filter(pk__gt=filters.cursor)
    page = list(cases.select_related("process", "maker").order_by("pk")[: limit + 1])
    next_cursor = page[limit - 1].pk if len(page) > limit else None
    return CasePageOut(items=[summary_out(c) for c in page[:limit]], next_cursor=next_cursor)


@router.get("/cases/{case_id}", response={200: CaseOut, **PROBLEMS}, summary="One case")
def get_case(request: HttpRequest, case_id: int) -> CaseOut:
    return _reload(case_id, request.user)


@router.patch("/cases/{case_id}", response={200: CaseOut, **PROBLEMS}, summary="Amend the payload")
def amend_case(request: HttpRequest, case_id: int, body: CaseAmendIn) -> CaseOut:
    command = Command(CommandKind.AMEND, body.comment, body.payload)
    do_command(case_id, command, request.user).raise_if_denied()
    return _reload(case_id, request.user)


@router.post(
    "/cases/{case_id}/actions", response={200: CaseOut, **PROBLEMS}, summary="Act on a case"
)
def act_on_case(request: HttpRequest, case_id: int, body: ActionIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        command = Command(
            CommandKind(body.action),
            comment=body.comment,
            on_behalf_of=body.on_behalf_of,
            seen_payload_hash=body.payload_hash,
        )
        do_command(case_id, command, request.user).raise_if_denied()
        return 200, _reload(case_id, request.user)

    return idempotent(request, run)


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
def list_delegations(request: HttpRequest) -> list[DelegationOut]:
    from django.db.models import Q

    rows = Delegation.objects.filter(
        Q(principal=request.user) | Q(substitute=request.user)
    ).select_related("principal", "substitute")
    return [delegation_out(r) for r in rows]


@router.post(
    "/delegations",
    response={201: DelegationOut, **PROBLEMS},
    tags=["delegations"],
    summary="Name a substitute",
)
def create_delegation(request: HttpRequest, body: DelegationIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        row = do_create_delegation(
            request.user,
            body.substitute,
            body.valid_from,
            body.valid_to,
            reason=body.reason,
            actor=request.user,
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
    return delegation_out(do_end_delegation(delegation_id, actor=request.user))
