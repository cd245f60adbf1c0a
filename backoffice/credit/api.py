"""The credit API under /api/v1/credit/: votes and decisions, registers, problem loans.

A credit case is started, submitted, amended, withdrawn and commented through the cases
API (``POST /api/v1/cases`` with process ``credit-decision``); the commands only credit
cases know — vote, decide, close, control — are here, with typed bodies. Thin: the cases
services (for case commands) and the credit services decide.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from ninja import Query, Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, Later, csv_download, idempotent
from backoffice.base.pages import PageIn, answer_page, keyset, link_next
from backoffice.cases.queries import access_case_by_id
from backoffice.cases.services import do_command
from backoffice.core.credit import CreditAction, CreditCommand, Decision, Side
from backoffice.credit import queries
from backoffice.credit.models import Credit, Provision
from backoffice.credit.present import credit_case_out
from backoffice.credit.schemas import (
    BorrowerOut,
    CaseLeadIn,
    CloseIn,
    ControlIn,
    CreditCaseOut,
    CreditRowOut,
    DecisionIn,
    DecisionRowOut,
    ProvisionIn,
    ProvisionOut,
    ReviewIn,
    StatusIn,
    VoteIn,
)
from backoffice.credit.services import (
    do_approve_provision,
    do_assign_case_lead,
    do_note_risk_report_export,
    do_propose_provision,
    do_report_credit_status,
    do_review_credit,
)

__all__ = ["router"]

router = Router(tags=["credit"])


def _act(request: HttpRequest, case_id: int, command: CreditCommand) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        actor = actor_of(request)
        case = access_case_by_id(actor, case_id)
        do_command(actor, case, command).raise_if_denied()
        return Later(200, {"case": case.pk}, lambda: credit_case_out(actor, case))

    def credit_case_now(ref: dict[str, Any]) -> CreditCaseOut:
        actor = actor_of(request)
        return credit_case_out(actor, access_case_by_id(actor, int(ref["case"])))

    return idempotent(request, run, credit_case_now)


@router.get(
    "/cases/{case_id}", response={200: CreditCaseOut, **PROBLEMS}, summary="One credit case"
)
def get_credit_case(request: HttpRequest, case_id: int) -> CreditCaseOut:
    actor = actor_of(request)
    return credit_case_out(actor, access_case_by_id(actor, case_id))


@router.post(
    "/cases/{case_id}/votes",
    response={200: CreditCaseOut, **PROBLEMS},
    summary="Vote (market or back office; committee or board member)",
)
def vote(request: HttpRequest, case_id: int, body: VoteIn) -> HttpResponse:
    command = CreditCommand(
        CreditAction.VOTE,
        comment=body.rationale,
        decision=Decision(body.decision),
        rating=body.rating or None,
        side=Side(body.side) if body.side else None,
        seen_payload_hash=body.payload_hash,
    )
    return _act(request, case_id, command)


@router.post(
    "/cases/{case_id}/decision",
    response={200: CreditCaseOut, **PROBLEMS},
    summary="Decide an escalated case (a level strictly above both voters)",
)
def decide(request: HttpRequest, case_id: int, body: DecisionIn) -> HttpResponse:
    command = CreditCommand(
        CreditAction.DECIDE,
        comment=body.rationale,
        decision=Decision(body.decision),
        justification=body.justification,
        rating=body.rating or None,
        seen_payload_hash=body.payload_hash,
    )
    return _act(request, case_id, command)


@router.post(
    "/cases/{case_id}/close",
    response={200: CreditCaseOut, **PROBLEMS},
    summary="Close the committee's vote (quorum with a back-office member)",
)
def close(request: HttpRequest, case_id: int, body: CloseIn) -> HttpResponse:
    return _act(request, case_id, CreditCommand(CreditAction.CLOSE, comment=body.comment))


@router.post(
    "/cases/{case_id}/control",
    response={200: CreditCaseOut, **PROBLEMS},
    summary="Processing control of a decided case (PROC-6)",
)
def control(request: HttpRequest, case_id: int, body: ControlIn) -> HttpResponse:
    return _act(request, case_id, CreditCommand(CreditAction.CONTROL, comment=body.finding))


@router.get(
    "/borrowers",
    response={200: list[BorrowerOut], **PROBLEMS},
    summary="Borrowers by number (paged: ?after=&limit=, next page in the Link header)",
)
def list_borrowers(
    request: HttpRequest, page: Query[PageIn], response: HttpResponse
) -> list[BorrowerOut]:
    borrowers = queries.get_borrowers(actor_of(request))
    found = keyset(borrowers, queries.BORROWER_ORDER, page.after, page.limit)
    link_next(request, response, found.next)
    return [
        BorrowerOut(
            number=b.number,
            name=b.name,
            group=b.group.key,
            group_name=b.group.name,
            insider=b.insider,
        )
        for b in found.items
    ]


# -- registers and reports -----------------------------------------------------------------


class Format(PageIn):
    """A page of JSON (``?after=&limit=``) or, with ``?format=csv``, every row as CSV."""

    format: Literal["json", "csv", "xlsx"] = "json"


class Month(Format):
    """#19: ``?month=2026-12``: the escalations of one month (the dashboard's chart)."""

    month: str | None = None


class Period(Format):
    start: date | None = None
    end: date | None = None


def _answer(
    request: HttpRequest,
    response: HttpResponse,
    report: queries.Report[Any],
    params: Format,
    name: str,
) -> Any:
    """The whole report as a streamed CSV, or one page of it with the next in ``Link``."""

    def csv() -> HttpResponseBase:
        return csv_download(f"{name}.csv", report.columns, report.cells(), params.format)

    return answer_page(
        request,
        response,
        report,
        params.after,
        params.limit,
        csv if params.format != "json" else None,
    )


@router.get(
    "/register",
    response={200: list[DecisionRowOut], **PROBLEMS},
    summary="Credit decision register by case (paged; ?format=csv: all)",
)
def register(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_decision_register(actor_of(request))
    return _answer(request, response, report, params, "credit-register")


@router.get(
    "/escalations",
    response={200: list[DecisionRowOut], **PROBLEMS},
    summary="Escalated credit cases by case (paged; ?format=csv: all)",
)
def escalations(request: HttpRequest, params: Query[Month], response: HttpResponse) -> Any:
    report = queries.get_escalations(actor_of(request), queries.parse_month(params.month))
    return _answer(request, response, report, params, "credit-escalations")


@router.get(
    "/risk-report",
    response={200: list[DecisionRowOut], **PROBLEMS},
    summary="Flagged credit decisions of a period (default: this year; paged; ?format=csv: all)",
)
def risk_report(request: HttpRequest, params: Query[Period], response: HttpResponse) -> Any:
    today = timezone.localdate()
    actor = actor_of(request)
    start, end = params.start or today.replace(month=1, day=1), params.end or today
    report = queries.get_risk_report(actor, start, end)
    if params.format != "json":  # a file taken out of the system, as the PDF is: on record
        do_note_risk_report_export(actor, start, end, params.format)
    return _answer(request, response, report, params, "risk-report")


@router.get(
    "/reviews/overdue",
    response={200: list[CreditRowOut], **PROBLEMS},
    summary="Credits whose annual review is overdue, longest first (paged; ?format=csv: all)",
)
def overdue_reviews(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_overdue_reviews(actor_of(request))
    return _answer(request, response, report, params, "overdue-reviews")


# -- booked credits: problem loans, provisions, reviews --------------------------------------


def _credit_out(credit: Credit) -> CreditRowOut:
    credit = Credit.objects.select_related("borrower", "group", "case_lead", "decision").get(
        pk=credit.pk
    )
    return CreditRowOut(**queries.credit_row(credit, timezone.localdate()))


@router.get("/credits/{credit_id}", response={200: CreditRowOut, **PROBLEMS}, summary="One credit")
def get_credit(request: HttpRequest, credit_id: int) -> CreditRowOut:
    return _credit_out(queries.access_credit_by_id(actor_of(request), credit_id))


@router.post(
    "/credits/{credit_id}/status",
    response={200: CreditRowOut, **PROBLEMS},
    summary="Report days past due and forbearance (PROC-2)",
)
def report_status(request: HttpRequest, credit_id: int, body: StatusIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        credit = do_report_credit_status(
            credit_id,
            days_past_due=body.days_past_due,
            forborne=body.forborne,
            actor=actor_of(request),
        )
        return 200, _credit_out(credit)

    return idempotent(request, run)


@router.post(
    "/credits/{credit_id}/case-lead",
    response={200: CreditRowOut, **PROBLEMS},
    summary="Name the case lead of intensive care or workout (PROC-2)",
)
def case_lead(request: HttpRequest, credit_id: int, body: CaseLeadIn) -> HttpResponse:
    return idempotent(
        request,
        lambda: (
            200,
            _credit_out(do_assign_case_lead(credit_id, body.lead, actor=actor_of(request))),
        ),
    )


@router.post(
    "/credits/{credit_id}/review",
    response={200: CreditRowOut, **PROBLEMS},
    summary="Annual review with the binding rating (PROC-4, PROC-5)",
)
def review(request: HttpRequest, credit_id: int, body: ReviewIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        credit = do_review_credit(credit_id, body.rating, body.comment, actor=actor_of(request))
        return 200, _credit_out(credit)

    return idempotent(request, run)


def _provision_out(p: Provision) -> ProvisionOut:
    return ProvisionOut(
        id=p.pk,
        credit=p.credit_id,
        amount=p.amount,
        currency=p.currency,
        reason=p.reason,
        proposed_by=p.proposed_by,
        approved_by=p.approved_by,
    )


@router.post(
    "/credits/{credit_id}/provisions",
    response={201: ProvisionOut, **PROBLEMS},
    summary="Propose a risk provision (PROC-3)",
)
def propose_provision(request: HttpRequest, credit_id: int, body: ProvisionIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        provision = do_propose_provision(
            credit_id, body.amount, body.reason, actor=actor_of(request)
        )
        return 201, _provision_out(provision)

    return idempotent(request, run)


@router.post(
    "/provisions/{provision_id}/approve",
    response={200: ProvisionOut, **PROBLEMS},
    summary="Approve a risk provision (PROC-3)",
)
def approve_provision(request: HttpRequest, provision_id: int) -> HttpResponse:
    return idempotent(
        request,
        lambda: (200, _provision_out(do_approve_provision(provision_id, actor=actor_of(request)))),
    )
