"""#13: a policy change that makes control weaker needs compliance besides a second
administrator, and every releaser sees what the change means, not only its YAML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Process
from backoffice.org.models import PolicyVersion, Profile
from tests.cases.conftest import Person, problem
from tests.conftest import DEMO_POLICY

ONE_APPROVAL = '{when: "amount < 10000", approvals: 1'
RAISED = DEMO_POLICY.read_text().replace(ONE_APPROVAL, '{when: "amount < 100000000", approvals: 1')
LOWERED = DEMO_POLICY.read_text().replace(ONE_APPROVAL, '{when: "amount < 5000", approvals: 1')
MEANING = "payment-release: 1 approval for amount below 100,000,000 (was below 10,000)"


@pytest.fixture
def person(demo_bank: Any) -> Callable[[str], Person]:
    return Person


def propose(person: Callable[[str], Person], policy: str, **extra: Any) -> dict[str, Any]:
    started = person("oliver.richter").start(
        "policy-change", {"summary": "payment limits", "policy": policy, **extra}
    )
    assert started.status_code == 201, started.content
    return dict(started.json())


def one_approval_limit() -> str:
    spec = Process.objects.get(key="payment-release").spec
    return spec.step("release").tiers[0].when


def grant(username: str, role: str) -> None:
    RoleAssignment.objects.create(
        user=get_user_model().objects.get(username=username),
        role=Role.objects.get(key=role),
        valid_from=date(2026, 1, 1),
    )


def test_raising_the_one_approval_limit_needs_compliance_besides_the_second_administrator(
    person: Callable[[str], Person],
) -> None:
    """The attack of #13: 1 approval up to 100M EUR, released by a second administrator."""
    case = propose(person, RAISED)
    assert case["payload"]["weakens"] == "yes"
    assert {"section": "processes", "subject": "payment-release", "text": MEANING,
            "weakens": True} in case["preview"]["changes"]  # fmt: skip
    assert case["preview"]["weakens"] is True
    halfway = person("hanna.schroeder").act(case["id"], "release").json()
    assert (halfway["status"], halfway["step"]) == ("submitted", "compliance")
    assert one_approval_limit() == "amount < 10000"
    assert PolicyVersion.objects.count() == 1
    done = person("clara.vogel").act(case["id"], "release").json()
    assert done["status"] == "released"
    assert one_approval_limit() == "amount < 100000000"
    assert AuditEvent.objects.get(action="policy.loaded", object_id="2").actor == "clara.vogel"
    effect = AuditEvent.objects.get(action="case.effect.policy.apply", object_id=str(case["id"]))
    assert effect.after["weakens"] is True
    assert {"text": MEANING, "weakens": True} in effect.after["meaning"]


def test_the_maker_cannot_declare_a_weakening_change_harmless(
    person: Callable[[str], Person],
) -> None:
    case = propose(person, RAISED, weakens="no")
    assert case["payload"]["weakens"] == "yes"
    halfway = person("hanna.schroeder").act(case["id"], "release").json()
    assert halfway["step"] == "compliance"


def test_a_tightening_change_needs_no_compliance(person: Callable[[str], Person]) -> None:
    case = propose(person, LOWERED)
    assert case["payload"]["weakens"] == "no"
    assert [(c["text"], c["weakens"]) for c in case["preview"]["changes"]] == [
        ("payment-release: 1 approval for amount below 5,000 (was below 10,000)", False)
    ]
    done = person("hanna.schroeder").act(case["id"], "release").json()
    assert done["status"] == "released"
    assert one_approval_limit() == "amount < 5000"


def test_the_case_page_shows_what_the_change_means_above_the_yaml(
    person: Callable[[str], Person], login: Callable[[str], Any]
) -> None:
    case = propose(person, RAISED)
    # the page in English, whatever language the demo gives her
    Profile.objects.filter(user__username="hanna.schroeder").update(language="en")
    page = login("hanna.schroeder").get(f"/cases/{case['id']}/").content.decode()
    assert MEANING in page
    assert "weakens control" in page
    assert page.index(MEANING) < page.index('<pre class="diff"')
    assert "compliance must approve it" in page


def test_the_releasing_administrator_cannot_also_approve_for_compliance(
    person: Callable[[str], Person],
) -> None:
    """Paula is a compliance officer who was also made an administrator: she may release as
    the second administrator or approve for compliance, not both."""
    grant("paula.schwarz", "administrator")
    case = propose(person, RAISED)
    assert person("paula.schwarz").act(case["id"], "release").json()["step"] == "compliance"
    problem(person("paula.schwarz").act(case["id"], "release"), 403, "sod.prior_step_actor")
    assert person("clara.vogel").act(case["id"], "release").json()["status"] == "released"


def test_compliance_approval_cannot_come_from_the_releaser_as_a_substitute(
    person: Callable[[str], Person],
) -> None:
    """Compliance cannot name the releasing administrator substitute (acting for her would
    give him an access risk); a delegation from before that rule does not help either."""
    from backoffice.cases.models import Delegation

    today = timezone.localdate()
    period = {"valid_from": str(today), "valid_to": str(today + timedelta(days=3))}
    refused = person("clara.vogel").post("/delegations", {"substitute": "hanna.schroeder"} | period)
    assert refused.status_code in (403, 422) and refused.json()["code"].startswith("delegation.")
    users = get_user_model().objects
    Delegation.objects.create(  # a delegation made before delegations were judged
        principal=users.get(username="clara.vogel"),
        substitute=users.get(username="hanna.schroeder"),
        valid_from=today,
        valid_to=today + timedelta(days=3),
        created_by="clara.vogel",
    )
    case = propose(person, RAISED)
    hanna = person("hanna.schroeder")
    assert hanna.act(case["id"], "release").json()["step"] == "compliance"
    response = hanna.act(case["id"], "release", on_behalf_of="clara.vogel")
    assert response.status_code == 403
    assert response.json()["code"] in ("sod.prior_step_actor", "delegation.access_risk")


def test_compliance_approval_needs_someone_in_compliance_not_only_its_permission(
    person: Callable[[str], Person],
) -> None:
    grant("stefan.bauer", "compliance-officer")  # legal, not the compliance function
    case = propose(person, RAISED)
    person("hanna.schroeder").act(case["id"], "release")
    problem(person("stefan.bauer").act(case["id"], "release"), 403, "step.not_eligible")


def test_removing_the_compliance_step_is_itself_a_weakening(
    person: Callable[[str], Person],
) -> None:
    source = DEMO_POLICY.read_text()
    start = source.index(
        "      - id: compliance\n        name:\n          en: Approval by compliance (the"
    )
    end = source.index("        exclude: {steps: [release]}\n", start)
    stripped = source[:start] + source[end + len("        exclude: {steps: [release]}\n") :]
    case = propose(person, stripped)
    assert case["payload"]["weakens"] == "yes"
    assert any(c["weakens"] and "step compliance" in c["text"] for c in case["preview"]["changes"])
    assert person("hanna.schroeder").act(case["id"], "release").json()["step"] == "compliance"


def test_a_change_that_weakens_against_the_policy_live_at_release_is_refused(
    person: Callable[[str], Person],
) -> None:
    """A harmless proposal would, once a tightening went live meanwhile, undo it: checked
    again at release against the live policy, then assessed and approved again."""
    harmless = DEMO_POLICY.read_text().replace(
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}",
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}\n"
        "  - {id: facility, name: Facility Management, line: support, parent: board}",
    )
    first = propose(person, harmless)
    assert first["payload"]["weakens"] == "no"
    tightening = propose(person, LOWERED)
    hanna = person("hanna.schroeder")
    assert hanna.act(tightening["id"], "release").json()["status"] == "released"
    problem(hanna.act(first["id"], "release"), 409, "policy.assessment_changed")
    assert one_approval_limit() == "amount < 5000"
    returned = hanna.act(first["id"], "return", comment="assess it against the live policy")
    assert returned.json()["status"] == "returned"
    amended = person("oliver.richter").patch(
        f"/cases/{first['id']}", {"payload": {"summary": "facility", "policy": harmless}}
    )
    assert amended.status_code == 200, amended.content
    assert amended.json()["payload"]["weakens"] == "yes"
    person("oliver.richter").act(first["id"], "submit")
    assert hanna.act(first["id"], "release").json()["step"] == "compliance"


def test_an_effect_without_a_compliance_step_cannot_release_a_weakening_change(
    demo_bank: Any,
) -> None:
    """Fail-safe: a process that applies policies but has no ``weakens`` field (no way to
    ask compliance) refuses a change that weakens control."""
    from backoffice.org.effects import PolicyChange

    refused = PolicyChange().check({"policy": RAISED})
    assert refused is not None and refused.code == "policy.compliance_required"
    assert PolicyChange().check({"policy": LOWERED}) is None


def test_a_policy_that_cannot_be_read_counts_as_weakening(
    person: Callable[[str], Person],
) -> None:
    draft = person("oliver.richter").start(
        "policy-change", {"summary": "x", "policy": "version: [1"}, submit=False
    )
    assert draft.status_code == 201, draft.content
    case = draft.json()
    assert case["payload"]["weakens"] == "yes"
    assert (case["preview"]["understood"], case["preview"]["weakens"]) == (False, True)
