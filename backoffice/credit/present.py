"""A credit case as people and clients see it: the API's ``CreditCaseOut`` and the case
page's credit panel (the credit engine's fragment of ``cases`` case page)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.cases.present import summary_out
from backoffice.cases.queries import ActionOption, available_actions, domain_case
from backoffice.cases.schemas import ActionOut
from backoffice.core.credit import CreditCase
from backoffice.core.errors import DomainError
from backoffice.credit.models import Borrower
from backoffice.credit.schemas import AssessmentOut, CreditCaseOut, VoteOut

__all__ = ["credit_case_out", "credit_page"]


def credit_case_out(
    actor: Actor, case: Case, actions: list[ActionOption] | None = None
) -> CreditCaseOut:
    """A credit case with its assessment (exposure, level), votes, flags and actions."""
    current = domain_case(case)
    if not isinstance(current, CreditCase):
        raise DomainError("case.not_found", f"Case {case.pk} is not a credit case.")
    borrower = Borrower.objects.select_related("group").filter(
        number=current.payload.get("borrower")
    )
    found = borrower.first()
    a = current.assessment
    return CreditCaseOut(
        **summary_out(case).model_dump(),
        borrower=str(current.payload.get("borrower")),
        borrower_name=found.name if found else "",
        group=found.group.name if found else "",
        product=current.product,
        stage=current.step,
        assessment=AssessmentOut(
            requested=a.requested.amount,
            existing_exposure=a.existing.amount,
            exposure=a.exposure.amount,
            currency=a.exposure.currency,
            risk_relevant=a.risk_relevant,
            relevance=a.relevance,
            required_level=a.required_level,
            required_level_name=current.policy.level(a.required_level).name,
            back_office_vote=a.back_office_vote,
            full_board=list(a.full_board),
        )
        if a
        else None,
        escalation_level=current.escalation_level,
        votes=[
            VoteOut(
                actor=v.actor,
                stage=v.stage.value,
                side=v.side.value,
                level=v.level,
                decision=v.decision.value,
                rating=v.rating,
                rationale=v.rationale,
                kind="decision" if v.decided else "vote",
                justification=v.justification,
            )
            for v in current.votes
        ],
        rating=current.binding_rating,
        flags=sorted(f.value for f in current.flags),
        controlled_by=list(current.controlled_by),
        actions=[
            ActionOut(**vars(o))
            for o in (available_actions(actor, case) if actions is None else actions)
        ],
    )


def _column(vote: VoteOut) -> str:
    """The first votes stand under their side; an escalation decision and committee or
    full-board votes under the third column, whichever line the decider answers for."""
    return vote.side if vote.stage == "votes" and vote.kind == "vote" else "board"


def _next(credit: CreditCaseOut) -> str:
    """What the open case waits for, in words (the generic page knows four-eyes steps only)."""
    if credit.stage is None:
        return ""
    voted = {v.side for v in credit.votes if v.stage == "votes"}
    if credit.stage == "votes":
        missing = [
            label
            for side, label in (
                ("market", _("the market vote")),
                ("back_office", _("the back-office vote")),
            )
            if side not in voted
            and (side == "market" or (credit.assessment and credit.assessment.back_office_vote))
        ]
        if not missing:
            return _("Waiting for the votes.")
        return _("Waiting for %(votes)s.") % {"votes": _(" and ").join(missing)}
    if credit.stage == "escalation":
        return _("The votes differ: waiting for the decision at level %(level)s.") % {
            "level": credit.escalation_level or ""
        }
    if credit.stage == "committee":
        return _("Waiting for the credit committee's votes.")
    return _("Waiting for the votes of the full board.")


def credit_page(actor: Actor, case: Case, actions: list[ActionOption]) -> dict[str, Any]:
    """What the case page shows of a credit case: votes by side, the rating scale."""
    credit = credit_case_out(actor, case, actions)
    current = domain_case(case)
    return {
        "credit": credit,
        "votes_by_side": {
            side: [v for v in credit.votes if _column(v) == side]
            for side in ("market", "back_office", "board")
        },
        "ratings": list(current.policy.ratings),
        # #19: the policy's level names, which the page shows in the reader's language
        "level_names": {level.id: level.name for level in current.policy.levels},
        # #19 defect 13: the product by its name, not its id
        "product_names": {product.id: product.name for product in current.policy.products},
        "credit_next": _next(credit),
        "sides": [
            ("market", _("Market (first vote)")),
            ("back_office", _("Back office (second vote)")),
            ("board", _("Escalation, committee and board")),
        ],
    }
