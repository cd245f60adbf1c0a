"""Emergency access rules (#15 part 2, core/emergency.py): EMERG-1, -3, -4, and the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.emergency import (
    EmergencyRoleSpec,
    EmergencySpec,
    review_due,
    review_refusal,
    session_state,
    start_refusal,
)
from backoffice.core.policy import PolicyInvalid, parse_policy
from tests.unit.test_access_rules import _policy_with

SPEC = EmergencySpec(
    max_hours=4,
    review_days=3,
    roles=[
        EmergencyRoleSpec(role="releaser", people=["ann", "bob"]),
        EmergencyRoleSpec(role="admin", people=["bob"], max_hours=2, allow_critical=True),
    ],
)


def refusal(person: str, role: str, minutes: int, critical: tuple[str, ...] = ()) -> str | None:
    found = start_refusal(SPEC, person, role, minutes, held=(), critical_risks=critical)
    return found.code if found else None


def test_a_listed_person_within_the_maximum_takes_the_role() -> None:
    assert refusal("ann", "releaser", 240) is None
    assert refusal("ann", "releaser", 241) == "emergency.too_long"
    assert refusal("bob", "admin", 120) is None
    assert refusal("bob", "admin", 121) == "emergency.too_long"  # the role's own maximum


def test_everyone_else_asks_through_a_case() -> None:
    assert refusal("carl", "releaser", 10) == "emergency.not_listed"
    assert refusal("ann", "admin", 10) == "emergency.not_listed"
    assert refusal("ann", "trader", 10) == "emergency.not_listed"
    found = start_refusal(None, "ann", "releaser", 10, held=(), critical_risks=())
    assert found is not None and found.code == "emergency.not_listed"
    assert "case" in found.message


def test_a_critical_risk_refuses_unless_the_role_allows_it() -> None:
    assert refusal("ann", "releaser", 10, ("pay-pay",)) == "emergency.critical_risk"
    assert refusal("bob", "admin", 10, ("admin-business",)) is None


def test_a_role_held_already_is_not_taken_again() -> None:
    found = start_refusal(SPEC, "ann", "releaser", 10, held=("releaser",), critical_risks=())
    assert found is not None and found.code == "emergency.already_active"


@given(
    person=st.sampled_from(["ann", "bob", "carl"]),
    role=st.sampled_from(["releaser", "admin", "trader"]),
    minutes=st.integers(min_value=1, max_value=2000),
    critical=st.booleans(),
)
def test_the_answer_is_exactly_the_rule(
    person: str, role: str, minutes: int, critical: bool
) -> None:
    """Allowed ⇔ listed ∧ within the maximum ∧ (no critical risk ∨ allowed for the role)."""
    entry = SPEC.for_role(role)
    listed = entry is not None and person in entry.people
    within = entry is not None and minutes <= SPEC.max_minutes(entry)
    tolerated = not critical or (entry is not None and entry.allow_critical)
    answer = refusal(person, role, minutes, ("r",) if critical else ())
    assert (answer is None) == (listed and within and tolerated)
    if not listed:
        assert answer == "emergency.not_listed"


def test_the_reviewer_is_a_controller_and_never_the_person() -> None:
    permission = "access.emergency.review"
    assert review_refusal("ann", "carl", {permission}, permission) is None
    found = review_refusal("ann", "ann", {permission}, permission)
    assert found is not None and found.code == "emergency.self_review"
    found = review_refusal("ann", "carl", set(), permission)
    assert found is not None and found.code == "emergency.forbidden"


NOON = datetime(2027, 3, 1, 12, tzinfo=UTC)


@given(offset=st.integers(min_value=-600, max_value=10_000), reviewed=st.booleans())
def test_a_session_is_active_exactly_between_start_and_end(offset: int, reviewed: bool) -> None:
    end = NOON + timedelta(minutes=60)
    due = review_due(end, 3)
    now = NOON + timedelta(minutes=offset)
    state = session_state(NOON, end, reviewed, due, now)
    if NOON <= now < end:
        assert state == "active"
    elif reviewed:
        assert state == "reviewed"
    else:
        assert state == ("overdue" if now >= due else "unreviewed")


@pytest.mark.parametrize(
    ("emergency", "message"),
    [
        ("roles: [{role: no-role, people: [eva.hahn]}]", "unknown role 'no-role'"),
        ("roles: [{role: trader, people: [nobody]}]", "unknown person 'nobody'"),
        ("max_hours: 25", "less than or equal to 24"),
        (
            "max_hours: 2\n    roles: [{role: trader, people: [eva.hahn], max_hours: 3}]",
            "longer than the section's max_hours",
        ),
        (
            "roles: [{role: trader, people: [eva.hahn]}, {role: trader, people: [mia.frank]}]",
            "listed twice",
        ),
    ],
)
def test_policy_problems_name_the_place(emergency: str, message: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(_policy_with(f"  emergency:\n    {emergency}\n"), "bank.yaml")
    text = str(caught.value)
    assert message in text, text
    assert "bank.yaml:" in text


def test_the_demo_policy_lists_its_firefighters() -> None:
    from tests.conftest import DEMO_POLICY

    access = parse_policy(DEMO_POLICY.read_bytes(), "demo-bank.yaml").policy.access
    assert access is not None and access.emergency is not None
    assert {r.role for r in access.emergency.roles} >= {"payment-releaser", "administrator"}
