"""Credit decisions through the API, as MaRisk BTO 1.1 asks (CR-1 … CR-7, ORG-3, COOL-1).

Lukas Becker (market, level L2) prepares the cases and never votes on them; Anna Schmidt
(market, L3), Julia Wagner (market, L4) and Felix Hoffmann (market, L1) cast market votes;
Maria Keller (back office, L3) and Jonas Fischer (back office, L2, moved from the market on
2026-10-01) cast back-office votes; the board holds the board level.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseEvent
from backoffice.credit.models import Credit, CreditDecision, CreditPolicyRecord
from backoffice.org.models import Membership, Unit
from tests.credit.conftest import Voter, problem

Voters = Callable[[str], Voter]
Cases = Callable[..., int]


def change_credit_policy(**changes: Any) -> None:
    """A new live credit section (as a released policy change would load it)."""
    live = CreditPolicyRecord.objects.order_by("-number").first()
    assert live is not None and live.definition is not None
    definition = dict(live.definition)
    for key, value in changes.items():
        if isinstance(value, dict):
            definition[key] = {**definition[key], **value}
        else:
            definition[key] = value
    CreditPolicyRecord.objects.create(number=live.number + 1, definition=definition)


def test_loan_of_2m_approved_by_market_l3_and_back_office_l3(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    anna, maria = voter("anna.schmidt"), voter("maria.keller")
    shown = anna.credit_case(cid)
    assert shown["status"] == "in_voting" and shown["stage"] == "votes"
    assessment = shown["assessment"]
    assert (assessment["exposure"], assessment["risk_relevant"], assessment["required_level"]) == (
        "2000000.00",
        True,
        "L3",
    )
    after_market = anna.vote(cid, rating="5").json()
    assert after_market["status"] == "in_voting"
    done = maria.vote(cid, rating="4", rationale="Debt service cover 1.6").json()
    assert done["status"] == "approved"
    assert [(v["actor"], v["side"], v["level"], v["decision"]) for v in done["votes"]] == [
        ("anna.schmidt", "market", "L3", "approve"),
        ("maria.keller", "back_office", "L3", "approve"),
    ]
    # PROC-4: in risk-relevant business the back office's grade is binding, not the market's
    assert done["rating"] == "4" and done["flags"] == []
    credit = Credit.objects.get(decision__case_id=cid)
    assert (credit.amount, credit.rating, credit.stage) == (2000000, "4", "normal")
    assert AuditEvent.objects.filter(action="case.voted", object_id=str(cid)).count() == 2
    assert AuditEvent.objects.filter(action="credit.booked", after__case=cid).exists()


def test_a_rejecting_back_office_vote_escalates_and_the_board_decides(
    voter: Voters, case: Cases
) -> None:
    cid = case("2000000.00")
    voter("anna.schmidt").vote(cid, rating="5")
    escalated = voter("maria.keller").vote(cid, "reject", rating="8").json()
    assert (escalated["status"], escalated["stage"], escalated["escalation_level"]) == (
        "escalated",
        "escalation",
        "L4",
    )
    # Julia holds L4 but is in the market: a market vote never replaces the back office (CR-4)
    problem(voter("julia.wagner").decide(cid), 403, "credit.back_office_vote_required")
    sabine = voter("sabine.roth")
    decided = sabine.decide(cid, "reject", rationale="Leverage too high", rating="8").json()
    assert decided["status"] == "rejected"
    assert decided["votes"][-1]["kind"] == "decision"
    # CR-6: any decision of the board member for the back office is highlighted
    assert decided["flags"] == ["back_office_board_decision"]
    assert not Credit.objects.filter(decision__case_id=cid).exists()


def test_differing_votes_are_rejected_under_a_reject_policy(voter: Voters, case: Cases) -> None:
    change_credit_policy(on_dissent="reject")
    cid = case("2000000.00")
    voter("anna.schmidt").vote(cid, rating="5")
    done = voter("maria.keller").vote(cid, "reject", rating="8").json()
    assert (done["status"], done["escalation_level"]) == ("rejected", None)


def test_a_case_started_before_a_policy_change_keeps_its_rules(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    change_credit_policy(on_dissent="reject")
    voter("anna.schmidt").vote(cid, rating="5")
    assert voter("maria.keller").vote(cid, "reject", rating="8").json()["status"] == "escalated"


def test_two_market_votes_never_approve_risk_relevant_business(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    voter("anna.schmidt").vote(cid, rating="5")
    problem(voter("julia.wagner").vote(cid), 403, "credit.back_office_vote_required")
    assert CreditDecision.objects.get(case_id=cid).status == "in_voting"


def test_a_small_loan_is_approved_by_the_market_vote_alone(voter: Voters, case: Cases) -> None:
    cid = case("50000.00")
    shown = voter("anna.schmidt").credit_case(cid)
    assert shown["assessment"]["risk_relevant"] is False
    assert shown["assessment"]["back_office_vote"] is False
    done = voter("anna.schmidt").vote(cid).json()
    assert done["status"] == "approved" and len(done["votes"]) == 1
    # the back office is not asked for non-risk-relevant business (CR-2)
    fresh = case("60000.00")
    problem(voter("maria.keller").vote(fresh, rating="3"), 403, "credit.vote_not_needed")


def test_the_policy_may_ask_the_back_office_for_small_loans_too(voter: Voters, case: Cases) -> None:
    change_credit_policy(risk_relevance={"back_office_vote_always": True})
    cid = case("50000.00")
    assert voter("anna.schmidt").vote(cid).json()["status"] == "in_voting"
    assert voter("maria.keller").vote(cid).json()["status"] == "approved"


def test_a_back_office_voter_below_the_exposure_is_refused(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    body = problem(voter("jonas.fischer").vote(cid, rating="4"), 403, "authority.limit_exceeded")
    assert "L2" in body["detail"] and "L3" in body["detail"]


def test_the_exposure_is_the_groups_total_after_this_credit(voter: Voters, case: Cases) -> None:
    """CR-1: 500k to a group with 600k already is risk-relevant business of 1.1m."""
    cid = case("500000.00", borrower="B000003")  # Schmidt group, opening exposure 600,000
    assessment = voter("anna.schmidt").credit_case(cid)["assessment"]
    assert (assessment["existing_exposure"], assessment["exposure"]) == ("600000.00", "1100000.00")
    assert assessment["risk_relevant"] and assessment["required_level"] == "L3"
    # a second application in parallel counts the first: no splitting under a threshold
    second = case("200000.00", borrower="B000002")
    assert voter("anna.schmidt").credit_case(second)["assessment"]["exposure"] == "1300000.00"


def test_products_decide_risk_relevance_and_level_scope(voter: Voters, case: Cases) -> None:
    project = case("100000.00", product="project-finance")
    assert voter("anna.schmidt").credit_case(project)["assessment"]["risk_relevant"] is True
    consumer = case("800000.00", product="consumer-loan")
    assert voter("anna.schmidt").credit_case(consumer)["assessment"]["risk_relevant"] is False
    # Felix's level L1 covers retail products only (CR-3)
    corporate = case("50000.00", borrower="B000004")  # Lange group: 150,000 before
    problem(voter("felix.hoffmann").vote(corporate), 403, "authority.product_scope")
    overdraft = case("40000.00", borrower="B000004", product="overdraft")
    assert voter("felix.hoffmann").vote(overdraft).json()["status"] == "approved"


def test_a_board_member_overrides_a_negative_back_office_vote_only_with_a_justification(
    voter: Voters, case: Cases
) -> None:
    cid = case("2000000.00")
    voter("anna.schmidt").vote(cid, rating="5")
    voter("maria.keller").vote(cid, "reject", rating="8")
    max_weber = voter("max.weber")
    problem(max_weber.decide(cid), 422, "credit.justification_required")
    done = max_weber.decide(cid, justification="Parent guarantee covers the risk.").json()
    assert done["status"] == "approved" and done["flags"] == ["deviating_decision"]
    assert done["rating"] == "8"  # the back office's grade stays binding
    report = voter("martin.jung").get("/credit/risk-report").json()
    assert [(r["case"], r["flag_list"]) for r in report] == [(cid, ["deviating_decision"])]


def test_an_escalation_is_decided_only_strictly_above_both_voters(
    voter: Voters, case: Cases
) -> None:
    cid = case("800000.00")
    voter("anna.schmidt").vote(cid, rating="5")
    voter("maria.keller").vote(cid, "reject", rating="8")
    # Jonas's L2 covers 800,000 but is not above the voters' L3
    problem(voter("jonas.fischer").decide(cid, rating="6"), 403, "authority.not_above_voters")
    problem(voter("anna.schmidt").decide(cid), 403, "credit.already_voted")
    problem(voter("anna.schmidt").vote(cid), 403, "step.wrong_action")
    decided = voter("thomas.klein").decide(cid, "reject").json()
    assert decided["status"] == "rejected" and decided["flags"] == []


def test_nobody_votes_on_both_sides_of_a_case_even_when_deployed_in_both(
    voter: Voters, case: Cases
) -> None:
    """ORG-3: Julia is deployed to Credit Analysis for a while; she still votes once."""
    julia = get_user_model().objects.get(username="julia.wagner")
    Membership.objects.create(
        user=julia, unit=Unit.objects.get(key="credit-analysis"), valid_from=date(2026, 1, 1)
    )
    RoleAssignment.objects.create(
        user=julia, role=Role.objects.get(key="credit-analyst"), valid_from=date(2026, 1, 1)
    )
    cid = case("2000000.00")
    problem(voter("julia.wagner").vote(cid), 403, "step.not_eligible")  # which side?
    assert voter("julia.wagner").vote(cid, side="market").status_code == 200
    refused = voter("julia.wagner").vote(cid, side="back_office", rating="4")
    problem(refused, 403, "credit.same_voter")
    problem(voter("julia.wagner").vote(cid, side="market"), 403, "credit.already_voted")


def test_a_back_office_vote_first_then_the_market(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    voter("maria.keller").vote(cid, rating="4")
    problem(voter("sabine.roth").vote(cid, rating="4"), 403, "credit.market_vote_required")
    done = voter("anna.schmidt").vote(cid).json()
    assert done["status"] == "approved"


def test_cooling_off_bars_a_back_office_vote_on_business_handled_in_the_market(
    voter: Voters, case: Cases
) -> None:
    """COOL-1: Jonas served the Schmidt group until 2026-10-01, then moved to the back office."""
    schmidt = case("300000.00", borrower="B000002")  # group exposure 900,000: risk-relevant
    body = problem(voter("jonas.fischer").vote(schmidt, rating="4"), 403, "sod.cooling_off")
    assert "2026-10-01" in body["detail"]
    korn = case("300000.00", borrower="B000001")
    change_credit_policy(risk_relevance={"threshold": {"amount": "250000", "currency": "EUR"}})
    korn = case("300000.00", borrower="B000001")  # a borrower he never handled
    voter("anna.schmidt").vote(korn, rating="4")
    assert voter("jonas.fischer").vote(korn, rating="4").json()["status"] == "approved"


def test_strict_cooling_off_bars_every_borrower_of_the_former_unit(
    voter: Voters, case: Cases
) -> None:
    change_credit_policy(
        cooling_off={"strict": True},
        risk_relevance={"threshold": {"amount": "250000", "currency": "EUR"}},
    )
    korn = case("300000.00", borrower="B000001")  # served by Corporate Clients, his old unit
    problem(voter("jonas.fischer").vote(korn, rating="4"), 403, "sod.cooling_off")
    lange = case("300000.00", borrower="B000004", product="mortgage")  # a retail borrower
    voter("anna.schmidt").vote(lange)
    assert voter("jonas.fischer").vote(lange, rating="4").json()["status"] == "approved"


def test_the_committee_never_outvotes_the_back_office(voter: Voters, case: Cases) -> None:
    """CR-5: Stadtwerke (28m exposure) asks 5m: the committee's level, then the full board."""
    cid = case("5000000.00", borrower="B000005", maker="julia.wagner")
    shown = voter("max.weber").credit_case(cid)
    assert (shown["stage"], shown["assessment"]["required_level"]) == ("committee", "committee")
    assert shown["assessment"]["full_board"] == ["large_exposure"]
    problem(voter("lukas.becker").vote(cid), 403, "credit.not_committee_member")
    voter("max.weber").vote(cid)
    voter("anna.schmidt").vote(cid)
    problem(voter("max.weber").post(f"/credit/cases/{cid}/close", {}), 403, "credit.quorum_not_met")
    assert voter("thomas.klein").vote(cid).json()["status"] == "in_voting"  # 3:0, no back office
    voter("sabine.roth").vote(cid, "reject", rating="7")
    done = voter("maria.keller").vote(cid, "reject", rating="7").json()
    assert done["status"] == "rejected"  # 3:2 for, but every back-office member against


def test_a_committee_approval_of_a_large_exposure_goes_to_the_full_board(
    voter: Voters, case: Cases
) -> None:
    """CR-5 then CR-7: every board member approves a large exposure (§13 KWG)."""
    cid = case("5000000.00", borrower="B000005", maker="julia.wagner")
    voter("max.weber").vote(cid)
    voter("sabine.roth").vote(cid, rating="3")
    after = voter("thomas.klein").vote(cid).json()  # 3:0 of 5, the back office with it
    assert (after["status"], after["stage"]) == ("in_voting", "full_board")
    voter("max.weber").vote(cid)
    voter("sabine.roth").vote(cid, rating="3")
    problem(voter("anna.schmidt").vote(cid), 403, "step.not_eligible")
    done = voter("thomas.klein").vote(cid).json()
    assert done["status"] == "approved" and done["rating"] == "3"


def test_a_committee_vote_is_closed_with_its_quorum(voter: Voters, case: Cases) -> None:
    cid = case("5000000.00", borrower="B000005", maker="julia.wagner")
    voter("max.weber").vote(cid)
    voter("maria.keller").vote(cid, rating="3")
    voter("anna.schmidt").vote(cid, "reject")
    closed = voter("maria.keller").post(f"/credit/cases/{cid}/close", {"comment": "end"}).json()
    assert (closed["status"], closed["stage"]) == ("in_voting", "full_board")  # 2:1 with BO


def test_an_insider_loan_needs_every_board_member(voter: Voters, case: Cases) -> None:
    """CR-7, §15 KWG: a loan to the bank's Prokurist, though small, goes to the full board."""
    cid = case("40000.00", borrower="B000006", product="consumer-loan")
    after = voter("anna.schmidt").vote(cid).json()
    assert (after["status"], after["stage"]) == ("in_voting", "full_board")
    voter("max.weber").vote(cid)
    done = voter("sabine.roth").vote(cid, "reject").json()
    assert done["status"] == "rejected"  # one board member against: not unanimous


def test_the_processing_control_is_done_by_someone_not_involved(voter: Voters, case: Cases) -> None:
    """PROC-6: neither the processor nor a voter checks the decision."""
    maria = get_user_model().objects.get(username="maria.keller")
    RoleAssignment.objects.create(
        user=maria, role=Role.objects.get(key="problem-loans"), valid_from=date(2026, 1, 1)
    )
    cid = case("2000000.00")
    voter("anna.schmidt").vote(cid)
    voter("maria.keller").vote(cid, rating="4")
    control = {"finding": "Levels and votes as the Kompetenzordnung asks."}
    problem(
        voter("maria.keller").post(f"/credit/cases/{cid}/control", control),
        403,
        "credit.control_involved",
    )
    done = voter("katharina.braun").post(f"/credit/cases/{cid}/control", control).json()
    assert done["controlled_by"] == ["katharina.braun"]
    assert CaseEvent.objects.filter(case_id=cid, kind="controlled").count() == 1


def test_credit_cases_are_in_the_inbox_of_those_who_may_vote(voter: Voters, case: Cases) -> None:
    cid = case("2000000.00")
    inbox = voter("anna.schmidt").get("/cases?actionable=true").json()["items"]
    assert cid in [c["id"] for c in inbox]
    assert cid not in [
        c["id"] for c in voter("lukas.becker").get("/cases?actionable=true").json()["items"]
    ]
    voter("anna.schmidt").vote(cid)
    assert cid in [
        c["id"] for c in voter("maria.keller").get("/cases?actionable=true").json()["items"]
    ]
    assert cid not in [
        c["id"] for c in voter("anna.schmidt").get("/cases?actionable=true").json()["items"]
    ]
    # the generic case view works for credit cases too (timeline, actions)
    generic = voter("maria.keller").get(f"/cases/{cid}").json()
    actions = {a["action"]: a for a in generic["actions"]}
    assert actions["vote"]["allowed"] and not actions["decide"]["allowed"]
    assert [e["kind"] for e in generic["timeline"]] == ["started", "submitted", "voted"]


def test_a_credit_case_changes_only_as_a_draft_so_no_vote_outlives_its_assessment(
    voter: Voters, case: Cases
) -> None:
    """#13: votes are bound to the one round a credit case has: it cannot be returned,
    amended or submitted again once voting started (unlike a four-eyes case)."""
    from backoffice.credit.demo import credit_payload

    cid = case("500000.00")
    lukas = voter("lukas.becker")
    voter("anna.schmidt").vote(cid, rating="5")
    changed = lukas.patch(f"/cases/{cid}", {"payload": credit_payload("B000001", "400000.00")})
    problem(changed, 409, "case.wrong_state")
    problem(lukas.act(cid, "submit"), 409, "case.wrong_state")
    problem(voter("maria.keller").act(cid, "return", comment="redo"), 403, "step.wrong_action")
