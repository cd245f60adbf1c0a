"""Access governance API (#6): what-if simulation and the mitigation report. Thin: the
services check ``access.risk.read`` and record refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from backoffice.access.services import (
    EMERGENCY_SORTING,
    MITIGATION_SORTING,
    REVIEW_SORTING,
    do_decide_review,
    do_end_emergency,
    do_review_emergency,
    do_start_emergency,
    do_start_review,
    get_actual_conflicts,
    get_emergency_log,
    get_emergency_report,
    get_mitigation_report,
    get_review_report,
    get_review_summary,
    get_simulation,
)
from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, csv_response, idempotent
from backoffice.base.pages import PageIn, RecordPages, answer_page, link_next
from backoffice.core.emergency import session_state

__all__ = ["router"]

router = Router(tags=["access"])


class SimulateIn(Schema):
    person: str = Field(min_length=1, max_length=150)
    add_roles: list[str] = Field(default_factory=list, max_length=100)
    remove_roles: list[str] = Field(default_factory=list, max_length=100)
    as_of: date | None = Field(None, description="the day the change starts (today)")
    until: date | None = Field(
        None,
        description="the first day it no longer holds (open-ended); every day between "
        "is judged, the worst counts (#13)",
    )


class CauseOut(Schema):
    function: str
    role: str = Field(description="the role the person holds or would hold")
    permission: str
    via: str = Field(description="the role that grants the permission (itself or contained)")


class RiskOut(Schema):
    risk: str
    name: str
    level: Literal["critical", "high", "medium", "low"]
    owner: str
    description: str
    mitigated: bool
    causes: list[CauseOut]


class SsdOut(Schema):
    constraint: str
    name: str
    n: int
    roles: list[list[str]] = Field(description="[role of the set, held role it comes through]")


class ChangeOut(Schema):
    kind: Literal["role", "mitigation"]
    value: str
    starts: bool
    whose: str


class SimulationOut(Schema):
    person: str
    as_of: date
    until: date | None
    from_day: date | None = Field(
        description="the day the worst assessment arises, when later than as_of"
    )
    because: list[ChangeOut] = Field(description="what starts or ends on that day")
    roles_before: list[str] = Field(description="held on the worst day")
    roles_after: list[str]
    gained: list[RiskOut]
    lost: list[RiskOut]
    ssd: list[SsdOut]
    unmitigated_risk: Literal["none", "critical", "high", "medium", "low"]
    verdict: Literal["clear", "second_level", "access.ssd", "access.critical_risk"]
    message: str


class MitigationOut(Schema):
    person: str
    risk: str
    risk_name: str
    control: str
    description: str
    owner: str
    monitor: str
    valid_from: date
    valid_until: date
    state: Literal["active", "expiring", "expired", "future"]
    case: int


class MitigationFilterIn(PageIn):
    """``?status=``; a page of JSON (``?after=&limit=``) or, with ``?format=csv``, all rows."""

    status: Literal["all", "due", "active", "expiring", "expired"] = "all"
    #: #19: with ``expiring``, those ending within so many days (the dashboard's 30/60/90)
    within: int | None = Field(default=None, ge=1, le=366)
    format: Literal["json", "csv", "xlsx"] = "json"
    #: #19: ``column`` or ``-column``, as the page's headers sort it
    sort: str = ""


@router.post(
    "/access/simulate",
    response={200: SimulationOut, **PROBLEMS},
    summary="What-if: risks a person gains and loses with other roles",
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    return get_simulation(
        actor_of(request), body.person, body.add_roles, body.remove_roles, body.as_of, body.until
    )


def _csv(
    fmt: str, filename: str, report: RecordPages, schema: type[Schema]
) -> Callable[[], HttpResponseBase] | None:
    """The report's download when ``?format=csv`` (or ``xlsx``) asks for it: every row,
    streamed."""
    if fmt == "json":
        return None
    return lambda: csv_response(filename, (schema(**r) for r in report.all_rows()), schema, fmt)


@router.get(
    "/access/mitigations",
    response={200: list[MitigationOut], **PROBLEMS},
    summary="Mitigations: active, expiring within 30 days, expired; soonest end first "
    "(paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_mitigations(
    request: HttpRequest, params: Query[MitigationFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponseBase:
    report = get_mitigation_report(actor_of(request), params.status, within=params.within)
    report = report.in_order(MITIGATION_SORTING.parse(params.sort).order)
    return answer_page(
        request,
        response,
        report,
        params.after,
        params.limit,
        _csv(params.format, f"mitigations-{params.status}.csv", report, MitigationOut),
    )


# -- #15 part 2: emergency access (break-glass, firefighter) ---------------------------------


class EmergencyStartIn(Schema):
    role: str = Field(min_length=1, max_length=64)
    minutes: int = Field(ge=1, le=24 * 60, description="at most the policy's maximum for the role")
    reason: str = Field(min_length=1, max_length=2000)


class EmergencyReviewIn(Schema):
    note: str = Field(min_length=1, max_length=2000, description="what the log showed")


EmergencyState = Literal["active", "unreviewed", "overdue", "reviewed"]


class EmergencyOut(Schema):
    session: int
    person: str
    role: str
    reason: str
    state: EmergencyState
    started_at: datetime
    ends_at: datetime = Field(description="the role ends by itself then (or ended early)")
    planned_end: datetime
    ended_by: str = Field(description="who ended it early, if anyone")
    review_due: datetime
    reviewed_by: str
    reviewed_at: datetime | None
    review_note: str


class EmergencyEventOut(Schema):
    seq: int
    at: datetime
    action: str
    object_type: str
    object_id: str
    reason: str


class EmergencyLogOut(Schema):
    session: EmergencyOut
    events: list[EmergencyEventOut] = Field(description="audit events tagged with the session")


class EmergencyFilterIn(PageIn):
    """``?status=``; a page of JSON (``?after=&limit=``) or, with ``?format=csv``, all rows."""

    status: Literal["all", "active", "unreviewed", "overdue", "reviewed"] = "all"
    format: Literal["json", "csv", "xlsx"] = "json"
    #: #19: ``column`` or ``-column``, as the page's headers sort it
    sort: str = ""


def _session_out(session: Any) -> EmergencyOut:
    state = session_state(
        session.started_at,
        session.ends_at,
        session.reviewed_at is not None,
        session.review_due,
        timezone.now(),
    )
    return EmergencyOut(**session.as_record(), state=state)


@router.post(
    "/access/emergency",
    response={201: EmergencyOut, **PROBLEMS},
    summary="Take a role at once in an emergency (listed people only; EMERG-1)",
)
def start_emergency(request: HttpRequest, body: EmergencyStartIn) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        session = do_start_emergency(actor_of(request), body.role, body.minutes, body.reason)
        return 201, _session_out(session)

    return idempotent(request, run)


@router.post(
    "/access/emergency/{session_id}/end",
    response={200: EmergencyOut, **PROBLEMS},
    summary="End a running emergency session now (its person or a controller)",
)
def end_emergency(request: HttpRequest, session_id: int) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        return 200, _session_out(do_end_emergency(actor_of(request), session_id))

    return idempotent(request, run)


@router.post(
    "/access/emergency/{session_id}/review",
    response={200: EmergencyOut, **PROBLEMS},
    summary="Review an ended session's log (a controller who is not the person; EMERG-4)",
)
def review_emergency(
    request: HttpRequest, session_id: int, body: EmergencyReviewIn
) -> HttpResponse:
    def run() -> tuple[int, Schema]:
        session = do_review_emergency(actor_of(request), session_id, body.note)
        return 200, _session_out(session)

    return idempotent(request, run)


@router.get(
    "/access/emergency",
    response={200: list[EmergencyOut], **PROBLEMS},
    summary="Emergency sessions: active, unreviewed, overdue (not reviewed in time), reviewed; "
    "newest first (paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_emergency(
    request: HttpRequest, params: Query[EmergencyFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponseBase:
    report = get_emergency_report(actor_of(request), params.status)
    report = report.in_order(EMERGENCY_SORTING.parse(params.sort).order)
    return answer_page(
        request,
        response,
        report,
        params.after,
        params.limit,
        _csv(params.format, f"emergency-{params.status}.csv", report, EmergencyOut),
    )


@router.get(
    "/access/emergency/{session_id}/log",
    response={200: EmergencyLogOut, **PROBLEMS},
    summary="What was done under an emergency session: its tagged audit events (controllers)",
)
def emergency_log(request: HttpRequest, session_id: int) -> EmergencyLogOut:
    session, events = get_emergency_log(actor_of(request), session_id)
    return EmergencyLogOut(
        session=_session_out(session),
        events=[
            EmergencyEventOut(
                seq=e.seq,
                at=e.at,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                reason=e.reason,
            )
            for e in events
        ],
    )


# -- #15 recertification ---------------------------------------------------------------


class ReviewStartIn(Schema):
    as_of: date | None = Field(None, description="the campaign's day (today)")


class ReviewStartOut(Schema):
    campaign: int
    items: int
    due: date
    unassigned: list[str] = Field(
        description="assignments nobody may review (person/role/start): see to them"
    )


class ReviewItemOut(Schema):
    id: int
    campaign: int
    person: str
    role: str
    valid_from: date
    criticality: Literal["privileged", "material", "other"]
    critical_function: bool = Field(description="the role supports a critical function (DORA)")
    trigger: Literal["period", "transfer"] = Field(
        description="due because its period ran out, or ad hoc after the holder moved (RECERT-1)"
    )
    reviewer: str
    manager: str = Field(description="the holder's line manager; sees the item when overdue")
    unit: str
    due: date
    status: Literal["open", "overdue", "kept", "revoked"]
    suspended: bool = Field(description="overdue privileged access: gives no permissions")
    decided_at: datetime | None
    reason: str
    case: int | None = Field(description="the role-revoke case a revoke started")


class ReviewFilterIn(PageIn):
    """``?status=``; ``?mine=true``: the items one reviews and the overdue ones of the people
    one manages; a page of JSON or, with ``?format=csv``, all rows."""

    status: Literal["all", "open", "overdue", "kept", "revoked", "decided"] = "all"
    mine: bool = False
    format: Literal["json", "csv", "xlsx"] = "json"
    #: #19: ``column`` or ``-column``, as the page's headers sort it
    sort: str = ""


class ReviewDecisionIn(Schema):
    decision: Literal["keep", "revoke"]
    reason: str = Field("", max_length=2000, description="required for a revoke")


class CompletionOut(Schema):
    name: str
    total: int
    decided: int
    revoked: int
    overdue: int
    completion: float = Field(description="per cent decided")


class RubberStampOut(Schema):
    reviewer: str
    start: datetime
    end: datetime
    items: int


class RubberStampRuleOut(Schema):
    items: int
    seconds: int


class ReviewSummaryOut(Schema):
    as_of: date
    by_reviewer: list[CompletionOut]
    by_unit: list[CompletionOut]
    rubber_stamps: list[RubberStampOut] = Field(
        description="runs of more than rule.items decisions in less than rule.seconds"
    )
    rubber_stamp_rule: RubberStampRuleOut


@router.post(
    "/access/reviews",
    response={201: ReviewStartOut, **PROBLEMS},
    summary="Start a recertification campaign: an item for every assignment that is due "
    "(access.review.start)",
)
def start_review(request: HttpRequest, body: ReviewStartIn) -> Status[dict[str, Any]]:
    started = do_start_review(actor_of(request), day=body.as_of)
    assert started.campaign is not None
    return Status(
        201,
        {
            "campaign": started.campaign.pk,
            "items": started.items,
            "due": started.campaign.due,
            "unassigned": started.unassigned,
        },
    )


@router.get(
    "/access/reviews",
    response={200: list[ReviewItemOut], **PROBLEMS},
    summary="Review items by status (overdue: open past the due date); soonest due first "
    "(paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_reviews(
    request: HttpRequest, params: Query[ReviewFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponseBase:
    report = get_review_report(actor_of(request), params.status, mine=params.mine)
    report = report.in_order(REVIEW_SORTING.parse(params.sort).order)
    return answer_page(
        request,
        response,
        report,
        params.after,
        params.limit,
        _csv(params.format, f"access-reviews-{params.status}.csv", report, ReviewItemOut),
    )


@router.get(
    "/access/reviews/summary",
    response={200: ReviewSummaryOut, **PROBLEMS},
    summary="Completion per reviewer and per unit, and rubber-stamp flags",
)
def review_summary(request: HttpRequest) -> dict[str, Any]:
    return get_review_summary(actor_of(request))


@router.post(
    "/access/reviews/{item_id}/decision",
    response={200: ReviewItemOut, **PROBLEMS},
    summary="The reviewer keeps or revokes an item; a revoke starts a role-revoke case",
)
def decide_review(request: HttpRequest, item_id: int, body: ReviewDecisionIn) -> dict[str, Any]:
    actor = actor_of(request)
    item = do_decide_review(actor, item_id, body.decision, body.reason)
    return get_review_report(actor, "all", mine=True).row(item)


class ActualOut(Schema):
    user_id: str
    risk_id: str
    level: Literal["critical", "high", "medium", "low"]
    kind: Literal["object", "window"] = Field(
        description="window: every function within the window; object: on one object (OBJ-SOD)"
    )
    object: str = Field(description="the shared object of an object finding, else ''")
    start: str
    end: str
    possible: bool = Field(description="the person holds every function of the risk today")
    mitigated: bool
    evidence: str = Field(description="per function: FUNCTION TIME OBJECT; …")


class ActualFilterIn(PageIn):
    """``?window_days=``; a page of JSON (``?after=&limit=``) or, with ``?format=csv``, all."""

    window_days: int = Field(30, ge=1, le=3660)
    format: Literal["json", "csv", "xlsx"] = "json"


@router.get(
    "/access/actual",
    response={200: list[ActualOut], **PROBLEMS},
    summary="Actual conflicts: people who performed every function of a risk within the "
    "window, or on one object, by the audit trail; beside whether they could "
    "(paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_actual_conflicts(
    request: HttpRequest, params: Query[ActualFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponseBase:
    report = get_actual_conflicts(actor_of(request), params.window_days)
    if params.format != "json":
        items = (ActualOut(**row) for row in report.rows)
        return csv_response("actual-conflicts.csv", items, ActualOut, params.format)
    page = report.page(params.after, params.limit)
    link_next(request, response, page.next)
    return page.items
