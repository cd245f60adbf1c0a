"""#15 part 5: the DSD rule on role activation (core.dsd) and what ``policy check`` says
about DSD constraints (NIST RBAC §5.3.2, RULES.md DSD)."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.dsd import DsdSpec, judge_activation
from backoffice.core.policy import PolicyInvalid, parse_policy
from tests.conftest import DEMO_POLICY

ROLES = ["r0", "r1", "r2", "r3", "r4", "r5"]


def breaks(active: set[str], constraints: list[DsdSpec]) -> bool:
    """Brute force, as RULES.md states it: some subset of a constraint's roles, all active,
    has ``n`` or more members."""
    return any(
        set(subset) <= active
        for c in constraints
        for size in range(c.n, len(c.roles) + 1)
        for subset in combinations(c.roles, size)
    )


@st.composite
def constraint(draw: st.DrawFn, index: int) -> DsdSpec:
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=2, max_size=len(ROLES), unique=True))
    n = draw(st.integers(min_value=2, max_value=len(roles)))
    return DsdSpec(id=f"dsd-{index}", name=f"DSD {index}", roles=roles, n=n)


@st.composite
def constraints(draw: st.DrawFn) -> list[DsdSpec]:
    count = draw(st.integers(min_value=0, max_value=4))
    return [draw(constraint(i)) for i in range(count)]


@settings(max_examples=400, deadline=None)
@given(
    constraints(),
    st.lists(st.sampled_from(ROLES), max_size=12),
)
def test_activations_one_by_one_agree_with_the_brute_force_reference(
    rules: list[DsdSpec], requests: list[str]
) -> None:
    """A session activates roles in any order: each activation is allowed exactly when the
    session would not break a constraint afterwards, and a refusal names a broken one."""
    active: set[str] = set()
    for role in requests:
        refusal = judge_activation(active, role, rules)
        after = active | {role}
        assert (refusal is None) == (not breaks(after, rules))
        if refusal is None:
            active = after
        else:
            named = next(c for c in rules if c.id == refusal.constraint)
            assert role in named.roles
            assert len(set(named.roles) & after) >= named.n
            assert set(refusal.active) == set(named.roles) & after
        assert not breaks(active, rules)  # no session ever holds n roles of a set


def test_separate_sessions_may_each_activate_one_role_of_the_set() -> None:
    rule = [DsdSpec(id="dsd-pay", name="Enter or release", roles=["clerk", "releaser"], n=2)]
    assert judge_activation(set(), "clerk", rule) is None
    assert judge_activation(set(), "releaser", rule) is None
    refusal = judge_activation({"clerk"}, "releaser", rule)
    assert refusal is not None
    assert refusal.constraint == "dsd-pay"
    assert "dsd-pay (Enter or release)" in refusal.message
    assert judge_activation({"clerk"}, "clerk", rule) is None  # already active: no change


# -- policy check ----------------------------------------------------------------------------

SESSION = {
    "[payment.release]}": "[payment.release], activation: session}",
    "[customer.master.release]}": "[customer.master.release], activation: session}",
}
SSD_LAST = "    - {id: ssd-treasury,"


def policy_with_dsd(dsd: str) -> str:
    """The demo policy with two session roles and ``dsd`` beside its SSD constraints."""
    text = DEMO_POLICY.read_text()
    for old, new in SESSION.items():
        assert old in text
        text = text.replace(old, new, 1)
    head, _, tail = text.partition(SSD_LAST)
    line, _, rest = tail.partition("\n")
    return f"{head}{SSD_LAST}{line}\n  dsd:\n{dsd}{rest}"


def test_a_policy_with_session_roles_and_a_dsd_constraint_is_valid() -> None:
    document = parse_policy(
        policy_with_dsd(
            "    - {id: dsd-release, name: One release role per session, "
            "roles: [payment-releaser, master-data-releaser], n: 2}\n"
        ).encode(),
        "bank.yaml",
    )
    policy = document.policy
    assert policy.access is not None and [c.id for c in policy.access.dsd] == ["dsd-release"]
    session = {r.id for r in policy.roles if r.activation == "session"}
    assert session == {"payment-releaser", "master-data-releaser"}


@pytest.mark.parametrize(
    ("dsd", "message"),
    [
        (
            "    - {id: d1, name: D1, roles: [payment-releaser, no-role], n: 2}\n",
            "access: unknown role 'no-role'",
        ),
        (
            "    - {id: d1, name: D1, roles: [payment-releaser, master-data-releaser], n: 1}\n",
            "n: Input should be greater than or equal to 2",
        ),
        (
            "    - {id: d1, name: D1, roles: [payment-releaser, master-data-releaser], n: 3}\n",
            "n = 3 but the constraint names only 2 roles",
        ),
        (
            "    - {id: d1, name: D1, roles: [payment-releaser, payment-clerk], n: 2}\n",
            "role 'payment-clerk' is not activated per session",
        ),
        (
            "    - {id: d1, name: D1, roles: [payment-releaser, master-data-releaser]}\n"
            "    - {id: d1, name: D2, roles: [payment-releaser, master-data-releaser]}\n",
            "duplicate id 'd1'",
        ),
    ],
)
def test_policy_check_names_the_file_and_line_of_a_bad_dsd_constraint(
    dsd: str, message: str
) -> None:
    text = policy_with_dsd(dsd)
    lines = text.splitlines()
    first = lines.index("  dsd:") + 2  # 1-based: the first constraint's line
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(text.encode(), "bank.yaml")
    problems = str(caught.value)
    assert message in problems, problems
    assert any(f"bank.yaml:{line}:" in problems for line in (first, first + 1)), problems
