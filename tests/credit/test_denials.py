"""Every denial code of the credit engine and services, reached through the API and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.core.credit import CREDIT_DENIAL_CODES
from backoffice.core.errors import FORM_ERRORS
from backoffice.credit.models import Credit
from tests.conftest import DEMO_POLICY
from tests.credit.conftest import Voter, credit_payload, problem

V = Callable[[str], Voter]


def submitted(v: V, amount: str = "2000000.00", borrower: str = "B000001", **kw: Any) -> int:
    response = v("lukas.becker").apply(borrower, amount, **kw)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def escalated(v: V, amount: str = "2000000.00") -> int:
    cid = submitted(v, amount)
    v("anna.schmidt").vote(cid, rating="5")
    v("maria.keller").vote(cid, "reject", rating="8")
    return cid


def approved_credit(v: V) -> int:
    cid = submitted(v)
    v("anna.schmidt").vote(cid)
    v("maria.keller").vote(cid, rating="4")
    return int(Credit.objects.get(decision__case_id=cid).pk)


def grant(username: str, role: str) -> None:
    RoleAssignment.objects.create(
        user=get_user_model().objects.get(username=username),
        role=Role.objects.get(key=role),
        valid_from=date(2026, 1, 1),
    )


def committee_case(v: V) -> int:
    return int(v("julia.wagner").apply("B000005", "5000000.00").json()["id"])


def two_market_votes(v: V) -> Any:
    cid = submitted(v)
    v("anna.schmidt").vote(cid)
    return v("julia.wagner").vote(cid)


def two_back_office_votes(v: V) -> Any:
    cid = submitted(v)
    v("maria.keller").vote(cid, rating="4")
    return v("sabine.roth").vote(cid, rating="4")


def close_without_quorum(v: V) -> Any:
    cid = committee_case(v)
    v("thomas.klein").vote(cid)
    return v("thomas.klein").post(f"/credit/cases/{cid}/close", {})


def market_case_lead(v: V) -> Any:
    credit = approved_credit(v)
    v("lena.schulz").post(f"/credit/credits/{credit}/status", {"days_past_due": 45})
    return v("lena.schulz").post(f"/credit/credits/{credit}/case-lead", {"lead": "anna.schmidt"})


def vote_on_a_decided_case(v: V) -> Any:
    cid = submitted(v, "50000.00")
    v("anna.schmidt").vote(cid)
    return v("julia.wagner").vote(cid)


SCENARIOS: dict[str, tuple[int, Callable[[V], Any]]] = {
    "credit.back_office_vote_required": (403, two_market_votes),
    "credit.market_vote_required": (403, two_back_office_votes),
    "credit.vote_not_needed": (
        403,
        lambda v: v("maria.keller").vote(submitted(v, "50000.00"), rating="3"),
    ),
    "credit.already_voted": (403, lambda v: v("anna.schmidt").decide(escalated(v))),
    "credit.rationale_required": (
        422,
        lambda v: v("anna.schmidt").vote(submitted(v), rationale=" "),
    ),
    "credit.rating_required": (422, lambda v: v("maria.keller").vote(submitted(v))),
    "credit.justification_required": (422, lambda v: v("max.weber").decide(escalated(v))),
    "credit.not_committee_member": (403, lambda v: v("lukas.becker").vote(committee_case(v))),
    "credit.quorum_not_met": (403, close_without_quorum),
    "credit.unknown_borrower": (422, lambda v: v("lukas.becker").apply("B999999", "1000.00")),
    "credit.not_permitted": (
        403,
        lambda v: v("anna.schmidt").post(
            f"/credit/credits/{approved_credit(v)}/status", {"days_past_due": 40}
        ),
    ),
    "credit.not_found": (404, lambda v: v("maria.keller").get("/credit/credits/999999")),
    "credit.case_lead_market": (403, market_case_lead),
    "credit.provision_market": (
        403,
        lambda v: v("anna.schmidt").post(
            f"/credit/credits/{approved_credit(v)}/provisions",
            {"amount": "300000.00", "reason": "Borrower insolvent"},
        ),
    ),
    "credit.criteria_market": (403, lambda v: criteria_change(v, "anna.schmidt")),
    "reports.forbidden": (403, lambda v: v("anna.schmidt").get("/credit/register")),
    "authority.limit_exceeded": (403, lambda v: v("jonas.fischer").vote(submitted(v), rating="4")),
    "authority.product_scope": (
        403,
        lambda v: v("felix.hoffmann").vote(submitted(v, "50000.00", "B000004")),
    ),
    "authority.not_above_voters": (
        403,
        lambda v: v("jonas.fischer").decide(escalated(v, "800000.00"), rating="6"),
    ),
    "sod.cooling_off": (
        403,
        lambda v: v("jonas.fischer").vote(submitted(v, "300000.00", "B000002"), rating="4"),
    ),
    "sod.self_approval": (403, lambda v: v("lukas.becker").vote(submitted(v))),
    "step.not_eligible": (403, lambda v: v("katharina.braun").vote(submitted(v))),
    "step.wrong_action": (403, lambda v: v("anna.schmidt").act(submitted(v), "approve")),
    "case.wrong_state": (409, vote_on_a_decided_case),
    "case.not_maker": (403, lambda v: v("anna.schmidt").act(submitted(v), "withdraw")),
    "process.not_startable": (
        422,
        lambda v: v("maria.keller").start("credit-decision", credit_payload("B000001", "1000.00")),
    ),
    "payload.invalid": (422, lambda v: v("lukas.becker").apply("B000001", "1000.00", "yacht")),
    "payload.changed": (
        409,
        lambda v: v("anna.schmidt").vote(submitted(v), payload_hash="0" * 64),
    ),
    "comment.required": (422, lambda v: v("anna.schmidt").act(submitted(v), "comment")),
    "credit.same_voter": (403, lambda v: deployed_in_both_lines(v)),
    "credit.control_involved": (403, lambda v: control_by_voter(v)),
}

#: Codes the API cannot produce, each covered by tests/unit/test_credit.py instead.
CORE_ONLY = {
    "credit.decision_required": "the API's schema requires 'decision' before the core is asked",
    "actor.inactive": "an inactive account cannot authenticate at all",
}


def criteria_change(v: V, who: str) -> Any:
    """PROC-1: a market person (made an administrator) proposes new intensive-care criteria."""
    grant(who, "administrator")
    source = DEMO_POLICY.read_text().replace("days_past_due: 30,", "days_past_due: 45,")
    return v(who).start(
        "policy-change", {"summary": "Intensive care from 45 days", "policy": source}
    )


def deployed_in_both_lines(v: V) -> Any:
    from backoffice.org.models import Membership, Unit

    Membership.objects.create(
        user=get_user_model().objects.get(username="julia.wagner"),
        unit=Unit.objects.get(key="credit-analysis"),
        valid_from=date(2026, 1, 1),
    )
    grant("julia.wagner", "credit-analyst")
    cid = submitted(v)
    v("julia.wagner").vote(cid, side="market")
    return v("julia.wagner").vote(cid, side="back_office", rating="4")


def control_by_voter(v: V) -> Any:
    grant("anna.schmidt", "problem-loans")
    cid = submitted(v)
    v("anna.schmidt").vote(cid)
    v("maria.keller").vote(cid, rating="4")
    return v("anna.schmidt").post(f"/credit/cases/{cid}/control", {"finding": "fine"})


def test_every_credit_denial_code_is_reached_through_the_api() -> None:
    assert set(SCENARIOS) | set(CORE_ONLY) == set(CREDIT_DENIAL_CODES)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_credit_denial(voter: V, code: str) -> None:
    status, scenario = SCENARIOS[code]
    body = problem(scenario(voter), status, code)
    assert body["detail"] and body["type"] == f"urn:backoffice:problem:{code}"
    if status in (403, 409) and code != "reports.forbidden":
        assert AuditEvent.objects.filter(after__code=code).exists(), "a denial is audited"
    if code in FORM_ERRORS:  # #19: incomplete input is no refusal and is not recorded
        assert not AuditEvent.objects.filter(after__code=code).exists()
