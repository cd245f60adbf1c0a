"""Role grants and mitigations through four-eyes cases, judged by the access rules (#6)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import Mitigation, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.sod_cli import sod_analyze
from tests.cases.conftest import Person, problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(demo_bank: Any) -> type[Person]:
    return Person


def grant(beneficiary: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "beneficiary": beneficiary,
        "role": role,
        "valid_from": timezone.localdate().isoformat(),
        "justification": "Needed for the job.",
    } | extra


def mitigation(person: str, risk: str = "payment-entry-release", days: int = 90) -> dict[str, Any]:
    return {
        "person": person,
        "risk": risk,
        "control": "PAY-REVIEW-09",
        "description": "Every payment released is reviewed the next day.",
        "owner": "clara.vogel",
        "monitor": "martin.jung",
        "valid_until": (timezone.localdate() + timedelta(days=days)).isoformat(),
    }


def lapse() -> None:
    """Let time pass: every mitigation ended yesterday."""
    today = timezone.localdate()
    Mitigation.objects.update(
        valid_from=today - timedelta(days=30), valid_until=today - timedelta(days=1)
    )


def within_mitigation(days: int = 60) -> dict[str, str]:
    """#13: a grant ending while the (90-day) mitigation still holds."""
    return {"valid_to": (timezone.localdate() + timedelta(days=days)).isoformat()}


def holds(username: str, role: str) -> bool:
    return RoleAssignment.objects.filter(user__username=username, role__key=role).exists()


def test_a_grant_without_risk_needs_one_approval_and_creates_the_assignment(person: Any) -> None:
    started = person("maria.keller").start("role-grant", grant("paul.meyer", "research-analyst"))
    assert started.status_code == 201, started.content
    assert started.json()["payload"]["risk"] == "none"
    done = person("anna.schmidt").act(started.json()["id"], "release")
    assert done.json()["status"] == "released", done.content
    row = RoleAssignment.objects.get(user__username="paul.meyer", role__key="research-analyst")
    assert (row.granted_by, row.approved_by) == ("maria.keller", "anna.schmidt")


def test_requester_approver_and_beneficiary_are_three_people(person: Any) -> None:
    """IAM-1: nobody requests a role for themselves, approves their own request or own role."""
    anna, maria = person("anna.schmidt"), person("maria.keller")
    own = anna.start("role-grant", grant("anna.schmidt", "research-analyst"))
    assert own.status_code == 403, own.content
    case = maria.start("role-grant", grant("anna.schmidt", "research-analyst")).json()
    problem(anna.act(case["id"], "release"), 403, "sod.beneficiary")
    problem(maria.act(case["id"], "release"), 403, "sod.self_approval")
    assert not holds("anna.schmidt", "research-analyst")


def test_a_grant_breaking_ssd_is_refused_with_the_inherited_role_named(person: Any) -> None:
    """laura.lange is in the deal team; the head of research contains the analyst role."""
    cases_before = Case.objects.count()
    refused = problem(
        person("maria.keller").start("role-grant", grant("laura.lange", "research-head")),
        403,
        "access.ssd",
    )
    assert "research-analyst (through research-head)" in refused["detail"]
    # start and submit are one transaction (#14): nothing is kept but the refusal
    denial = AuditEvent.objects.filter(action="case.start_denied").order_by("-seq").first()
    assert denial is not None and denial.after["code"] == "access.ssd"
    assert denial.after["command"] == "submit"
    assert Case.objects.count() == cases_before  # no draft left behind (it was, before #14)
    assert not holds("laura.lange", "research-head")


def test_a_grant_creating_a_critical_risk_is_refused(person: Any) -> None:
    """A trader with the problem-loans role would control the risk they take (RC-1)."""
    refused = problem(
        person("maria.keller").start("role-grant", grant("niklas.wolf", "problem-loans")),
        403,
        "access.critical_risk",
    )
    assert "control-trading" in refused["detail"]


def test_an_unmitigated_lower_risk_waits_for_the_second_level(person: Any) -> None:
    """paul.meyer enters payments; releasing them too is a high risk: compliance decides."""
    case = person("maria.keller").start("role-grant", grant("paul.meyer", "payment-releaser"))
    assert case.json()["payload"]["risk"] == "high"
    case_id = case.json()["id"]
    first = person("anna.schmidt").act(case_id, "release")
    assert first.json()["status"] == "submitted" and first.json()["step"] == "second_level"
    assert not holds("paul.meyer", "payment-releaser")
    # the business owner's approval does not count for compliance's step
    problem(person("anna.schmidt").act(case_id, "release"), 403, "step.not_eligible")
    done = person("clara.vogel").act(case_id, "release")
    assert done.json()["status"] == "released", done.content
    assert holds("paul.meyer", "payment-releaser")


def test_a_mitigation_makes_a_second_level_approval_unnecessary(person: Any) -> None:
    created = person("anna.schmidt").start("mitigation", mitigation("felix.hoffmann"))
    person("clara.vogel").act(created.json()["id"], "release")
    assert Mitigation.objects.get(person__username="felix.hoffmann").control == "PAY-REVIEW-09"
    case = person("maria.keller").start(
        "role-grant", grant("felix.hoffmann", "payment-releaser", **within_mitigation())
    )
    assert case.json()["payload"]["risk"] == "none"
    done = person("anna.schmidt").act(case.json()["id"], "release")
    assert done.json()["status"] == "released"


def test_access_that_changed_after_approval_is_assessed_again(person: Any) -> None:
    """Approved while mitigated; the mitigation lapses before the release: refused."""
    created = person("anna.schmidt").start("mitigation", mitigation("felix.hoffmann"))
    person("clara.vogel").act(created.json()["id"], "release")
    case = person("maria.keller").start(
        "role-grant", grant("felix.hoffmann", "payment-releaser", **within_mitigation())
    )
    assert case.json()["payload"]["risk"] == "none"
    lapse()
    problem(
        person("anna.schmidt").act(case.json()["id"], "release"), 409, "access.assessment_changed"
    )
    assert not holds("felix.hoffmann", "payment-releaser")


def test_a_mitigation_is_created_and_extended_only_through_a_four_eyes_case(person: Any) -> None:
    clara, paula = person("clara.vogel"), person("paula.schwarz")
    first = clara.start("mitigation", mitigation("paul.meyer", days=10)).json()
    assert not Mitigation.objects.exists()  # proposed is not yet valid
    problem(clara.act(first["id"], "release"), 403, "sod.self_approval")
    paula.act(first["id"], "release")
    second = clara.start("mitigation", mitigation("paul.meyer", days=200)).json()
    paula.act(second["id"], "release")
    row = Mitigation.objects.get()
    assert row.valid_until == timezone.localdate() + timedelta(days=200)
    assert row.case_id == second["id"]
    assert AuditEvent.objects.filter(action="access.mitigation.extended").count() == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"risk": "no-such-risk"}, "access.unknown_risk"),
        ({"owner": "paul.meyer"}, "access.invalid"),
        ({"valid_until": "2020-01-01"}, "access.invalid"),
    ],
)
def test_a_bad_mitigation_is_refused(person: Any, change: dict[str, Any], code: str) -> None:
    problem(
        person("anna.schmidt").start("mitigation", mitigation("paul.meyer") | change), 422, code
    )


def test_an_expired_mitigation_turns_the_violation_back_on(person: Any, tmp_path: Any) -> None:
    """The live bulk analysis and the report agree: mitigated until valid_until, open after."""
    created = person("anna.schmidt").start("mitigation", mitigation("eva.hahn", days=5))
    person("clara.vogel").act(created.json()["id"], "release")
    today = timezone.localdate()

    def violations(as_of: Any) -> str:
        out = tmp_path / f"v-{as_of}.csv"
        assert (
            sod_analyze(["--live", "--as-of", as_of.isoformat(), "--out", str(out)], io.StringIO())
            == 0
        )
        return out.read_text()

    assert "eva.hahn,payment-entry-release,high,true" in violations(today + timedelta(days=5))
    assert "eva.hahn,payment-entry-release,high,false" in violations(today + timedelta(days=6))
    clara = person("clara.vogel")
    expiring = clara.get("/access/mitigations?status=expiring").json()
    assert [(m["person"], m["state"]) for m in expiring] == [("eva.hahn", "expiring")]
    lapse()
    expired = clara.get("/access/mitigations?status=expired").json()
    assert [(m["person"], m["state"]) for m in expired] == [("eva.hahn", "expired")]
    csv = clara.get("/access/mitigations?status=expired&format=csv")
    assert csv["Content-Type"].startswith("text/csv") and b"eva.hahn" in csv.getvalue()


def test_simulate_answers_risks_with_their_causes(person: Any) -> None:
    answer = person("clara.vogel").post(
        "/access/simulate", {"person": "paul.meyer", "add_roles": ["payment-releaser"]}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["verdict"] == "second_level" and body["unmitigated_risk"] == "high"
    gained = {r["risk"]: r for r in body["gained"]}
    assert set(gained) == {"payment-entry-release", "bank-details-payment"}
    causes = {
        (c["function"], c["role"], c["permission"])
        for c in gained["payment-entry-release"]["causes"]
    }
    assert causes == {
        ("payment-entry", "payment-clerk", "payment.enter"),
        ("payment-release", "payment-releaser", "payment.release"),
    }
    lost = person("clara.vogel").post(
        "/access/simulate", {"person": "eva.hahn", "remove_roles": ["payment-releaser"]}
    )
    assert [r["risk"] for r in lost.json()["lost"]] == ["payment-entry-release"]
    ssd = person("clara.vogel").post(
        "/access/simulate", {"person": "laura.lange", "add_roles": ["research-head"]}
    )
    assert ssd.json()["verdict"] == "access.ssd"
    assert ssd.json()["ssd"][0]["roles"] == [
        ["research-analyst", "research-head"],
        ["corporate-finance", "corporate-finance"],
    ]


def test_simulate_refuses_bad_input_and_people_without_the_right(person: Any) -> None:
    clara = person("clara.vogel")
    body = problem(
        clara.post("/access/simulate", {"person": "paul.meyer", "add_roles": ["no-such-role"]}),
        422,
        "access.unknown_role",
    )
    assert body["errors"] == [{"field": "add_roles", "message": "unknown role"}]
    problem(clara.post("/access/simulate", {"person": "nobody"}), 422, "access.unknown_person")
    problem(
        person("anna.schmidt").post("/access/simulate", {"person": "paul.meyer"}),
        403,
        "access.forbidden",
    )
    assert AuditEvent.objects.filter(action="access.denied", actor="anna.schmidt").exists()


def test_the_what_if_page_shows_the_verdict(login: Any, demo_bank: Any) -> None:
    page = login("clara.vogel").get(
        "/access/simulate/", {"person": "paul.meyer", "add_roles": ["payment-releaser"]}
    )
    assert page.status_code == 200
    assert b'data-verdict="second_level"' in page.content
    assert b"payment-entry-release" in page.content


def test_the_case_page_shows_the_risks_the_grant_creates(person: Any, login: Any) -> None:
    case = person("maria.keller").start("role-grant", grant("paul.meyer", "payment-releaser"))
    page = login("anna.schmidt").get(f"/cases/{case.json()['id']}/")
    assert page.status_code == 200
    assert b"payment-entry-release" in page.content and b"payment.release" in page.content


def test_a_policy_change_keeps_grants_made_by_cases_and_checks_them(
    person: Any, demo_policy_bytes: bytes
) -> None:
    from backoffice.core.policy import PolicyInvalid
    from backoffice.org.services import apply_policy

    case = (
        person("maria.keller").start("role-grant", grant("paul.meyer", "research-analyst")).json()
    )
    person("anna.schmidt").act(case["id"], "release")
    apply_policy(
        demo_policy_bytes.replace(
            b"  - {person: mia.frank, role: employee",
            b"  - {person: mia.frank, role: trader, valid_from: 2024-04-01}\n"
            b"  - {person: mia.frank, role: employee",
            1,
        ),
        "changed.yaml",
        actor="test",
    )
    assert holds("paul.meyer", "research-analyst")  # not the policy's to end
    stricter = demo_policy_bytes.replace(
        b"roles: [research-analyst, corporate-finance], n: 2",
        b"roles: [research-analyst, payment-clerk], n: 2",
    )
    with pytest.raises(PolicyInvalid) as caught:
        apply_policy(stricter, "stricter.yaml", actor="test")
    assert "paul.meyer" in str(caught.value) and f"case:{case['id']}" in str(caught.value)
    assert get_user_model().objects.filter(username="paul.meyer").exists()


def test_the_admin_offers_no_way_around_the_cases() -> None:
    """Assignments and mitigations change only through released cases, never in the admin."""
    from django.contrib import admin

    assert RoleAssignment not in admin.site._registry
    assert Mitigation not in admin.site._registry


def test_a_substitute_releasing_a_grant_meets_the_same_checks(person: Any) -> None:
    """Delegation cannot break SoD: anna is away, lukas releases for her, and the grant that
    would now break the payment triad (n = 3) is refused to him as it would be to her."""
    from backoffice.cases.services import do_create_delegation

    anna = get_user_model().objects.get(username="anna.schmidt")
    today = timezone.localdate()
    do_create_delegation(
        Actor(anna), "lukas.becker", today, today + timedelta(days=7), reason="Leave"
    )
    created = person("anna.schmidt").start("mitigation", mitigation("felix.hoffmann"))
    person("clara.vogel").act(created.json()["id"], "release")
    maria = person("maria.keller")
    first = maria.start("role-grant", grant("felix.hoffmann", "settlement-clerk")).json()
    second = maria.start(
        "role-grant", grant("felix.hoffmann", "payment-releaser", **within_mitigation())
    ).json()
    assert second["payload"]["risk"] == "none"  # alone, each grant is fine
    done = person("lukas.becker").act(first["id"], "release", on_behalf_of="anna.schmidt")
    assert done.json()["status"] == "released", done.content
    problem(
        person("lukas.becker").act(second["id"], "release", on_behalf_of="anna.schmidt"),
        403,
        "access.ssd",
    )
    assert not holds("felix.hoffmann", "payment-releaser")
