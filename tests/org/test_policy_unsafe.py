"""#15: a policy change that lets one person complete a process alone is refused
(policy.unsafe), naming the process and the witness (core.policy_verify)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.core.policy import Policy
from backoffice.org.effects import PolicyChange
from backoffice.org.models import PolicyVersion
from tests.cases.conftest import Person, problem
from tests.conftest import DEMO_POLICY
from tests.unit.test_policy_verify import with_tier

DEMO = DEMO_POLICY.read_text()
ZERO_BAND = DEMO.replace(
    '          - {when: "amount < 10000", approvals: 1, '
    'label: {en: "below 10,000", de: unter 10.000}}',
    '          - {when: "amount < 1000", approvals: 0, label: "below 1,000"}\n'
    '          - {when: "amount < 10000", approvals: 1, label: "below 10,000"}',
)


@pytest.fixture
def person(demo_bank: Any) -> Callable[[str], Person]:
    return Person


def test_a_band_without_approval_is_refused_before_anything_is_written(
    person: Callable[[str], Person],
) -> None:
    """The schema already asks every tier for one approval or more: such a change never
    reaches a checker."""
    assert ZERO_BAND != DEMO
    versions = PolicyVersion.objects.count()
    started = person("oliver.richter").start(
        "policy-change", {"summary": "small payments", "policy": ZERO_BAND}
    )
    body = problem(started, 422, "policy.invalid")
    (error,) = body["errors"]
    assert (
        "processes.0.steps.0.tiers.0.approvals: Input should be greater than or equal to 1"
        in (error["message"])
    )
    assert PolicyVersion.objects.count() == versions


def test_a_change_that_lets_a_clerk_release_a_payment_alone_is_refused(
    person: Callable[[str], Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the schema (should it ever allow a band without approval), the proof refuses
    the change: payment-release completes with nobody but the maker below 1,000."""
    parsed = PolicyChange._proposed

    def zero_band(self: PolicyChange, payload: Any) -> Policy | None:
        proposed = parsed(self, payload)
        return proposed and with_tier(proposed, "payment-release", "release", 0, "below 1,000")

    monkeypatch.setattr(PolicyChange, "_proposed", zero_band)
    versions = PolicyVersion.objects.count()
    body = problem(
        person("oliver.richter").start(
            "policy-change", {"summary": "small payments", "policy": DEMO}
        ),
        403,
        "policy.unsafe",
    )
    assert "Payment release (payment-release)" in body["detail"]
    assert "release: tier 'below 1,000', 0 approval(s)" in body["detail"]
    assert PolicyVersion.objects.count() == versions
    refused = AuditEvent.objects.filter(action="case.start_denied").last()
    assert refused is not None and refused.after["code"] == "policy.unsafe"


def test_a_change_that_keeps_every_process_safe_goes_through(
    person: Callable[[str], Person],
) -> None:
    tightened = DEMO.replace(
        '{when: "amount < 10000", approvals: 1', '{when: "amount < 5000", approvals: 1'
    )
    started = person("oliver.richter").start(
        "policy-change", {"summary": "payment limits", "policy": tightened}
    )
    assert started.status_code == 201, started.content
    done = person("hanna.schroeder").act(started.json()["id"], "release").json()
    assert done["status"] == "released"
    assert Case.objects.get(pk=started.json()["id"]).status == "released"
