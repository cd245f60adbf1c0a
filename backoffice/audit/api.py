"""``GET /audit`` (filtered, cursor-paged) and ``GET /audit/verify``: for audit and compliance."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from backoffice.audit.queries import AuditFilter, access_audit_log, get_event_page, verify_database
from backoffice.audit.schemas import (
    AuditEventOut,
    AuditFilterIn,
    AuditPageOut,
    ProblemOut,
    VerificationOut,
)
from backoffice.audit.signing import configured_public_keys
from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS

__all__ = ["router"]

router = Router(tags=["audit"])


@router.get(
    "/audit",
    response={200: AuditPageOut, **PROBLEMS},
    summary="Audit events in seq order, filtered, a page at a time",
)
def list_audit_events(request: HttpRequest, filters: Query[AuditFilterIn]) -> AuditPageOut:
    events = AuditFilter(
        action=filters.action,
        actor=filters.actor,
        object_type=filters.object_type,
        object_id=filters.object_id,
        request_id=filters.request_id,
        since=filters.since,
        until=filters.until,
    ).apply(access_audit_log(actor_of(request)))
    page, cursor = get_event_page(events, after=filters.after, limit=filters.limit)
    return AuditPageOut(items=[AuditEventOut.from_orm(event) for event in page], next=cursor)


@router.get(
    "/audit/verify",
    response={200: VerificationOut, **PROBLEMS},
    summary="Recompute the whole chain and check the signed checkpoints",
)
def verify_audit_log(request: HttpRequest) -> VerificationOut:
    access_audit_log(actor_of(request))
    outcome = verify_database(configured_public_keys())
    problem = outcome.problem
    return VerificationOut(
        ok=outcome.ok,
        events=outcome.events,
        first_seq=outcome.first_seq,
        head_seq=outcome.head_seq,
        head_hash=outcome.head_hash,
        checkpoints=outcome.checkpoints,
        problem=ProblemOut(kind=problem.kind, seq=problem.seq, message=problem.message)
        if problem
        else None,
        notes=list(outcome.notes),
    )
