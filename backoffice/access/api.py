"""Access governance API (#6): what-if simulation and the mitigation report. Thin: the
services check ``access.risk.read`` and record refusals."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from backoffice.access.services import (
    get_actual_conflicts,
    get_mitigation_report,
    get_simulation,
)
from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, csv_response
from backoffice.base.pages import PageIn, link_next

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

    status: Literal["all", "active", "expiring", "expired"] = "all"
    format: Literal["json", "csv"] = "json"


@router.post(
    "/access/simulate",
    response={200: SimulationOut, **PROBLEMS},
    summary="What-if: risks a person gains and loses with other roles",
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    return get_simulation(
        actor_of(request), body.person, body.add_roles, body.remove_roles, body.as_of, body.until
    )


@router.get(
    "/access/mitigations",
    response={200: list[MitigationOut], **PROBLEMS},
    summary="Mitigations: active, expiring within 30 days, expired; soonest end first "
    "(paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_mitigations(
    request: HttpRequest, params: Query[MitigationFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponse:
    report = get_mitigation_report(actor_of(request), params.status)
    if params.format == "csv":
        items = (MitigationOut(**row) for row in report.all_rows())
        return csv_response(f"mitigations-{params.status}.csv", items, MitigationOut)
    page = report.page(params.after, params.limit)
    link_next(request, response, page.next)
    return page.items


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
    format: Literal["json", "csv"] = "json"


@router.get(
    "/access/actual",
    response={200: list[ActualOut], **PROBLEMS},
    summary="Actual conflicts: people who performed every function of a risk within the "
    "window, or on one object, by the audit trail; beside whether they could "
    "(paged: ?after=&limit=, next page in the Link header; ?format=csv: all)",
)
def list_actual_conflicts(
    request: HttpRequest, params: Query[ActualFilterIn], response: HttpResponse
) -> list[dict[str, Any]] | HttpResponse:
    report = get_actual_conflicts(actor_of(request), params.window_days)
    if params.format == "csv":
        items = (ActualOut(**row) for row in report.rows)
        return csv_response("actual-conflicts.csv", items, ActualOut)
    page = report.page(params.after, params.limit)
    link_next(request, response, page.next)
    return page.items
