"""The case as people and clients see it: one builder for the API and the HTML pages."""

from __future__ import annotations

from typing import Any

from backoffice.cases.effects import get_effect
from backoffice.cases.models import Case, Process
from backoffice.cases.queries import available_actions, domain_case
from backoffice.cases.schemas import (
    ActionOut,
    ApprovalsOut,
    CaseOut,
    CaseSummaryOut,
    EventOut,
    FieldOut,
    ProcessOut,
    StepOut,
)

__all__ = ["process_out", "summary_out", "case_out"]


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
