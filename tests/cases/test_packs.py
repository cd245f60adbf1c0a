"""Each shipped process pack end to end through the API, with the people who use it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from backoffice.access.models import RoleAssignment
from backoffice.access.queries import get_roles
from backoffice.audit.models import AuditEvent
from backoffice.masterdata.models import Customer
from backoffice.org.models import PolicyVersion, Unit
from tests.cases.conftest import payment, problem
from tests.conftest import DEMO_POLICY


def kinds(case: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["kind"], e["actor"]) for e in case["timeline"]]


def test_a_small_payment_is_entered_by_one_and_released_by_another(person: Any) -> None:
    anna, lena = person("anna.schmidt"), person("lena.schulz")
    started = anna.start("payment-release", payment("2500.00"))
    assert started.status_code == 201, started.content
    case = started.json()
    assert (case["status"], case["step"], case["maker"]) == ("submitted", "release", "anna.schmidt")
    assert case["approvals"] == {
        "step": "release",
        "step_name": "Release",
        "tier": "below 10,000",
        "needed": 1,
        "board_needed": 0,
        "given": 0,
        "board_given": 0,
        "aggregate": None,
    }
    assert case["payload"]["iban"] == "DE89370400440532013000"
    released = lena.act(case["id"], "release", payload_hash=case["payload_hash"])
    assert released.status_code == 200
    case = released.json()
    assert case["status"] == "released"
    assert kinds(case) == [
        ("started", "anna.schmidt"),
        ("submitted", "anna.schmidt"),
        ("approved", "lena.schulz"),
        ("released", "lena.schulz"),
    ]
    assert all(e["audit_seq"] for e in case["timeline"])
    assert AuditEvent.objects.filter(action="case.released", object_id=str(case["id"])).count() == 1


def test_a_large_payment_needs_two_releasers_one_of_them_on_the_board(person: Any) -> None:
    anna = person("anna.schmidt")
    case = anna.start("payment-release", payment("1500000.00")).json()
    assert case["approvals"]["needed"] == 2 and case["approvals"]["board_needed"] == 1
    # Sophie (limit 10m) approves; the last approval must come from the board
    first = person("sophie.krueger").act(case["id"], "release").json()
    assert first["status"] == "submitted" and first["approvals"]["given"] == 1
    problem(person("maria.keller").act(case["id"], "release"), 403, "authority.board_required")
    done = person("sabine.roth").act(case["id"], "release").json()
    assert done["status"] == "released"
    assert [e["board"] for e in done["timeline"] if e["kind"] == "approved"] == [False, True]


def test_a_medium_payment_needs_two_different_releasers(person: Any) -> None:
    case = person("lukas.becker").start("payment-release", payment("25000.00")).json()
    maria = person("maria.keller")
    assert maria.act(case["id"], "release").json()["status"] == "submitted"
    problem(maria.act(case["id"], "release"), 403, "sod.already_approved")
    assert person("lena.schulz").act(case["id"], "release").json()["status"] == "released"


def test_master_data_change_shows_before_and_after_and_applies_on_release(person: Any) -> None:
    Customer.objects.create(number="C000042", name="Bäckerei Korn", iban="DE02120300000000202051")
    paul, lena, maria = person("paul.meyer"), person("lena.schulz"), person("maria.keller")
    body = {
        "customer": "C000042",
        "field": "iban",
        "new_value": "DE89 3704 0044 0532 0130 00",
        "reason": "customer letter of 2026-11-20",
    }
    case = paul.start("master-data-change", body).json()
    assert case["preview"] == {
        "kind": "change",
        "object": "C000042 Bäckerei Korn",
        "field": "iban",
        "before": "DE02120300000000202051",
        "after": "DE89370400440532013000",
    }
    assert case["step"] == "callback"  # a new bank account is verified by a call-back first
    lena.act(case["id"], "approve", comment="called back 2026-11-26 10:14")
    problem(lena.act(case["id"], "release"), 403, "sod.prior_step_actor")
    assert Customer.objects.get(number="C000042").iban == "DE02120300000000202051"
    done = maria.act(case["id"], "release").json()
    assert done["status"] == "released"
    assert Customer.objects.get(number="C000042").iban == "DE89370400440532013000"
    changed = AuditEvent.objects.get(action="masterdata.customer.changed")
    assert (changed.before, changed.after) == (
        {"iban": "DE02120300000000202051"},
        {"iban": "DE89370400440532013000"},
    )


def test_master_data_change_of_an_unknown_customer_is_refused_at_submit(person: Any) -> None:
    body = {"customer": "C999999", "field": "phone", "new_value": "+49 69 1234", "reason": "x"}
    problem(
        person("paul.meyer").start("master-data-change", body), 422, "masterdata.unknown_customer"
    )


def test_role_grant_needs_three_different_people(person: Any) -> None:
    anna, maria = person("anna.schmidt"), person("maria.keller")
    grant = {
        "beneficiary": "felix.hoffmann",
        "role": "master-data-clerk",
        "valid_from": "2026-11-26",
        "justification": "covers for Lukas in December",
    }
    # IAM-1: the requester cannot be the beneficiary ...
    problem(
        anna.start("role-grant", grant | {"beneficiary": "anna.schmidt"}), 403, "sod.beneficiary"
    )
    case = anna.start("role-grant", grant).json()
    # ... the approver cannot be the requester ...
    problem(anna.act(case["id"], "release"), 403, "sod.self_approval")
    felix = get_user_model().objects.get(username="felix.hoffmann")
    assert "master-data-clerk" not in get_roles(felix)
    done = maria.act(case["id"], "release").json()
    assert done["status"] == "released"
    assert "master-data-clerk" in get_roles(felix)
    row = RoleAssignment.objects.get(user=felix, role__key="master-data-clerk")
    assert (row.granted_by, row.approved_by, row.source) == (
        "anna.schmidt",
        "maria.keller",
        f"case:{case['id']}",
    )


def test_role_grant_cannot_be_approved_by_its_beneficiary(person: Any) -> None:
    grant = {
        "beneficiary": "maria.keller",
        "role": "payment-clerk",
        "valid_from": "2026-11-26",
        "justification": "x",
    }
    case = person("anna.schmidt").start("role-grant", grant).json()
    problem(person("maria.keller").act(case["id"], "release"), 403, "sod.beneficiary")


def test_policy_change_is_proposed_by_one_administrator_and_released_by_another(
    person: Any,
) -> None:
    oliver, hanna = person("oliver.richter"), person("hanna.schroeder")
    new_policy = DEMO_POLICY.read_text().replace(
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}",
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}\n"
        "  - {id: facility, name: Facility Management, line: support, parent: board}",
    )
    case = oliver.start(
        "policy-change", {"summary": "add facility management", "policy": new_policy}
    )
    assert case.status_code == 201, case.content
    case = case.json()
    assert "+  - {id: facility, name: Facility Management" in case["preview"]["diff"]
    problem(oliver.act(case["id"], "release"), 403, "sod.self_approval")
    assert not Unit.objects.filter(key="facility").exists()
    done = hanna.act(case["id"], "release").json()
    assert done["status"] == "released"
    assert Unit.objects.get(key="facility").line == "support"
    assert PolicyVersion.objects.order_by("-number").first().number == 2
    loaded = AuditEvent.objects.get(action="policy.loaded", object_id="2")
    assert loaded.actor == "hanna.schroeder"
    assert f"case {case['id']}, proposed by oliver.richter" in loaded.reason


def test_a_broken_policy_is_refused_with_its_lines(person: Any) -> None:
    broken = DEMO_POLICY.read_text().replace(
        "name: Musterbank AG\n", "name: Musterbank AG\n  colour: red\n"
    )
    body = problem(
        person("oliver.richter").start("policy-change", {"summary": "x", "policy": broken}),
        422,
        "policy.invalid",
    )
    assert body["errors"] == [
        {"field": "policy", "message": "proposed policy:8:3: institution.colour: unknown key"}
    ]


def test_a_policy_that_breaks_separation_is_refused(person: Any) -> None:
    broken = DEMO_POLICY.read_text().replace(
        "{id: retail, name: Retail Banking, parent: market}",
        "{id: retail, name: Retail Banking, line: market, parent: back-office}",
    )
    body = problem(
        person("oliver.richter").start("policy-change", {"summary": "x", "policy": broken}),
        422,
        "policy.separation",
    )
    assert "ORG-1" in body["errors"][0]["message"]
