"""#13 item 4: acting for someone adds their functions to one's own.

The head of settlement (sophie.krueger, payment releaser) named a market officer
(anna.schmidt, payment clerk) as her substitute, who then released a market colleague's
(lukas.becker's) payment on her behalf: payment entry and release in one hand
(``payment-entry-release``, high). Refused when the delegation is created (or left to
compliance, as the demo policy says), and refused at the act for a delegation that exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case, Delegation
from backoffice.org.models import Profile
from tests.cases.conftest import Person, payment, problem

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def period(days: int = 7) -> dict[str, str]:
    return {"valid_from": str(TODAY), "valid_to": str(TODAY + timedelta(days=days))}


def delegate(principal: Person, substitute: str, days: int = 7) -> Any:
    return principal.post("/delegations", {"substitute": substitute, **period(days)})


def legacy_delegation(principal: str, substitute: str) -> Delegation:
    """A delegation as one created before #13 (or by a path around the service)."""
    users = get_user_model().objects
    return Delegation.objects.create(
        principal=users.get(username=principal),
        substitute=users.get(username=substitute),
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=7),
        created_by="legacy",
    )


def lukas_payment(person: Callable[[str], Person]) -> dict[str, Any]:
    started = person("lukas.becker").start("payment-release", payment())
    assert started.status_code == 201, started.content
    body: dict[str, Any] = started.json()
    return body


def use_policy(demo_policy_bytes: bytes, old: bytes, new: bytes) -> None:
    from backoffice.org.services import apply_policy

    assert old in demo_policy_bytes
    apply_policy(demo_policy_bytes.replace(old, new), "changed.yaml", actor="test")


def test_a_market_officer_is_not_named_substitute_of_the_head_of_settlement(
    person: Callable[[str], Person],
) -> None:
    """The demo policy leaves a high risk to compliance: not created directly."""
    refused = problem(
        delegate(person("sophie.krueger"), "anna.schmidt"), 403, "delegation.approval_required"
    )
    assert "payment-entry-release" in refused["detail"]
    assert "payment.enter" not in refused["detail"]  # names the risk, not anyone's access
    assert not Delegation.objects.exists()
    denial = AuditEvent.objects.get(action="case.delegation.denied")
    assert denial.actor == "sophie.krueger"
    assert denial.reason.startswith("delegation.approval_required")


def test_where_the_policy_refuses_high_risks_the_delegation_is_refused(
    person: Callable[[str], Person], demo_policy_bytes: bytes
) -> None:
    use_policy(demo_policy_bytes, b"delegation: {high: compliance}", b"delegation: {high: refuse}")
    problem(delegate(person("sophie.krueger"), "anna.schmidt"), 403, "delegation.access_risk")
    assert not Delegation.objects.exists()


def test_a_delegation_giving_a_critical_risk_is_refused_even_with_compliance(
    person: Callable[[str], Person],
) -> None:
    """The administrator releasing payments for sophie: administration and business."""
    body = problem(
        delegate(person("sophie.krueger"), "oliver.richter"), 403, "delegation.access_risk"
    )
    assert "admin-business" in body["detail"]
    case = person("sophie.krueger").start(
        "delegation", {"principal": "sophie.krueger", "substitute": "oliver.richter", **period()}
    )
    problem(case, 403, "delegation.access_risk")
    assert not Delegation.objects.exists()


def test_a_legacy_delegation_does_not_let_the_substitute_release_on_behalf(
    person: Callable[[str], Person],
) -> None:
    legacy_delegation("sophie.krueger", "anna.schmidt")
    case = lukas_payment(person)
    anna = person("anna.schmidt")
    assert anna.get("/cases?actionable=true").json()["items"] == []  # not in her inbox
    refused = problem(
        anna.act(case["id"], "release", on_behalf_of="sophie.krueger"),
        403,
        "delegation.access_risk",
    )
    assert "payment-entry-release" in refused["detail"]
    assert Case.objects.get(pk=case["id"]).status == "submitted"
    # sophie herself still releases it
    done = person("sophie.krueger").act(case["id"], "release")
    assert done.json()["status"] == "released", done.content


def test_a_role_granted_after_the_delegation_is_caught_when_acting(
    person: Callable[[str], Person],
) -> None:
    """jonas.fischer may stand in for lena.schulz; later he becomes a payment clerk too."""
    assert delegate(person("lena.schulz"), "jonas.fischer").status_code == 201
    RoleAssignment.objects.create(
        user=get_user_model().objects.get(username="jonas.fischer"),
        role=Role.objects.get(key="payment-clerk"),
        valid_from=TODAY,
        source="test",
    )
    case = lukas_payment(person)
    problem(
        person("jonas.fischer").act(case["id"], "release", on_behalf_of="lena.schulz"),
        403,
        "delegation.access_risk",
    )


def test_compliance_may_approve_a_high_risk_delegation_in_a_case(
    person: Callable[[str], Person],
) -> None:
    sophie, anna, clara = person("sophie.krueger"), person("anna.schmidt"), person("clara.vogel")
    payload = {"principal": "sophie.krueger", "substitute": "anna.schmidt", **period()}
    # only sophie delegates her own authority
    problem(person("maria.keller").start("delegation", payload), 422, "process.not_startable")
    started = sophie.start("delegation", payload)
    assert started.status_code == 201, started.content
    assert started.json()["payload"]["risk"] == "high"
    problem(anna.act(started.json()["id"], "release"), 404, "case.not_found")
    done = clara.act(started.json()["id"], "release")
    assert done.json()["status"] == "released", done.content
    row = Delegation.objects.get()
    assert (row.principal.username, row.substitute.username) == ("sophie.krueger", "anna.schmidt")
    assert row.case_id == started.json()["id"]
    assert set(row.approved_risks) == {"payment-entry-release", "bank-details-payment"}
    case = lukas_payment(person)
    released = anna.act(case["id"], "release", on_behalf_of="sophie.krueger")
    assert released.json()["status"] == "released", released.content


def test_nobody_is_their_own_substitute_whatever_the_case_of_the_name(
    person: Callable[[str], Person], login: Any
) -> None:
    """A second account whose name differs only in case is the same person."""
    alias = get_user_model().objects.create_user("Lena.Schulz")
    Profile.objects.create(user=alias, display_name="Lena Schulz (2)")
    lena = person("lena.schulz")
    problem(delegate(lena, "Lena.Schulz"), 422, "delegation.invalid")
    problem(delegate(lena, "LENA.SCHULZ"), 422, "delegation.invalid")
    page = login("lena.schulz").post(
        "/delegations/", {"substitute": "Lena.Schulz", **period(), "reason": "alias"}
    )
    assert page.status_code == 422 and "own substitute" in page.content.decode()
    assert not Delegation.objects.exists()
    assert AuditEvent.objects.filter(action="case.delegation.denied").count() == 3
    # nor through a delegation case
    problem(
        lena.start(
            "delegation", {"principal": "lena.schulz", "substitute": "lena.schulz", **period()}
        ),
        403,
        "sod.beneficiary",
    )
