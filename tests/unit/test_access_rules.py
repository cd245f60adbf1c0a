"""The access rules of the policy (#6): SSD with inheritance, risks, what a grant may do."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.access import (
    AccessRules,
    AccessSpec,
    FunctionSpec,
    RiskSpec,
    RoleFacts,
    SsdSpec,
    assess_grant,
    grant_problems,
)
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.core.roles import expand_roles
from tests.conftest import DEMO_POLICY

ROLES = [
    RoleFacts("clerk", ("pay.enter",)),
    RoleFacts("releaser", ("pay.release",)),
    RoleFacts("settler", ("settle",)),
    RoleFacts("senior", ("pay.release",), ("clerk",)),  # contains the clerk role
    RoleFacts("controller", ("control",)),
    RoleFacts("trader", ("trade",)),
    RoleFacts("reader", ("read",)),
]
FUNCTIONS = [
    FunctionSpec(id="enter", name="Enter", permissions=["pay.enter"]),
    FunctionSpec(id="release", name="Release", permissions=["pay.release"]),
    FunctionSpec(id="settle", name="Settle", permissions=["settle"]),
    FunctionSpec(id="control", name="Control", permissions=["control"]),
    FunctionSpec(id="trade", name="Trade", permissions=["trade"]),
]


def rules(*ssd: SsdSpec, risks: list[RiskSpec] | None = None) -> AccessRules:
    spec = AccessSpec(functions=FUNCTIONS, risks=risks or [], ssd=list(ssd))
    return AccessRules(spec, ROLES)


def risk(id: str, level: str, *functions: str) -> RiskSpec:
    return RiskSpec(id=id, name=id, level=level, owner="owner", functions=list(functions))  # type: ignore[arg-type]


PAIR = SsdSpec(id="pair", name="Enter and release", roles=["clerk", "releaser"], n=2)
TRIAD = SsdSpec(id="triad", name="Triad", roles=["clerk", "releaser", "settler"], n=3)


def test_ssd_n2_refuses_the_second_role_of_the_set() -> None:
    assessment = assess_grant(rules(PAIR), ["clerk"], ["releaser"])
    assert assessment.refusal is not None
    assert assessment.refusal[0] == "access.ssd"
    assert assess_grant(rules(PAIR), ["clerk"], ["settler"]).refusal is None


def test_ssd_n3_allows_two_and_refuses_the_third() -> None:
    assert assess_grant(rules(TRIAD), ["clerk"], ["releaser"]).refusal is None
    third = assess_grant(rules(TRIAD), ["clerk", "releaser"], ["settler"])
    assert [b.constraint for b in third.ssd] == ["triad"]
    assert {r for r, _ in third.ssd[0].roles} == {"clerk", "releaser", "settler"}


def test_a_senior_role_that_contains_a_conflicting_junior_is_refused() -> None:
    """Hierarchical SSD: ``senior`` contains ``clerk``, so it counts as clerk too."""
    ssd = SsdSpec(id="pair", name="Clerk and settler", roles=["clerk", "settler"], n=2)
    assessment = assess_grant(rules(ssd), ["settler"], ["senior"])
    assert assessment.refusal is not None and "clerk (through senior)" in assessment.refusal[1]


def test_a_person_breaking_a_constraint_already_may_still_get_unrelated_roles() -> None:
    assert assess_grant(rules(PAIR), ["clerk", "releaser"], ["reader"]).ssd == ()


def test_a_critical_risk_is_refused_even_when_mitigated() -> None:
    set_ = rules(risks=[risk("r-ct", "critical", "control", "trade")])
    assessment = assess_grant(set_, ["controller"], ["trader"], mitigated=["r-ct"])
    assert assessment.refusal is not None and assessment.refusal[0] == "access.critical_risk"


def test_a_lower_risk_needs_a_mitigation_or_a_second_level_approval() -> None:
    set_ = rules(
        risks=[risk("r-er", "high", "enter", "release"), risk("r-x", "low", "enter", "settle")]
    )
    open_ = assess_grant(set_, ["clerk"], ["releaser"])
    assert open_.refusal is None and open_.risk == "high"
    assert [c.role for c in open_.gained[0].causes] == ["clerk", "releaser"]
    covered = assess_grant(set_, ["clerk"], ["releaser"], mitigated=["r-er"])
    assert covered.risk == "none" and covered.mitigated == {"r-er"}
    # the most severe unmitigated one counts
    both = assess_grant(set_, ["clerk", "settler"], ["releaser"], mitigated=["r-er"])
    assert both.risk == "none"  # r-x was held before: only gains count
    assert assess_grant(set_, ["clerk"], ["releaser", "settler"], mitigated=["r-er"]).risk == "low"


def test_removing_a_role_reports_the_risks_lost() -> None:
    set_ = rules(risks=[risk("r-er", "high", "enter", "release")])
    assessment = assess_grant(set_, ["clerk", "releaser"], remove=["releaser"])
    assert [r.risk for r in assessment.lost] == ["r-er"] and assessment.risk == "none"


def test_bootstrap_grants_are_checked_on_every_day_they_change() -> None:
    set_ = rules(PAIR)
    grants = [
        ("ann", "clerk", date(2020, 1, 1), date(2021, 1, 1)),
        ("ann", "releaser", date(2021, 1, 1), None),  # after the clerk role ended: fine
        ("bob", "clerk", date(2020, 1, 1), None),
        ("bob", "releaser", date(2022, 6, 1), None),  # overlaps: refused
    ]
    problems = list(grant_problems(set_, grants))
    assert [index for index, _ in problems] == [3]
    assert "bob on 2022-06-01" in problems[0][1]


role_names = [r.id for r in ROLES]


@settings(max_examples=150, deadline=None)
@given(
    held=st.sets(st.sampled_from(role_names)),
    add=st.sets(st.sampled_from(role_names), min_size=1, max_size=2),
    members=st.sets(st.sampled_from(role_names), min_size=2, max_size=5),
    n=st.integers(2, 5),
)
def test_ssd_agrees_with_the_definition(
    held: set[str], add: set[str], members: set[str], n: int
) -> None:
    """NIST RBAC hierarchical SSD, brute force: a grant is refused exactly when afterwards the
    person is authorised for n or more roles of the set and was not before."""
    n = min(n, len(members))
    ssd = SsdSpec(id="s", name="s", roles=sorted(members), n=n)
    contains = {r.id: r.contains for r in ROLES}
    single_breaks = any(len(expand_roles([r], contains) & members) >= n for r in role_names)
    if single_breaks:
        return  # such a rule set is refused when the policy is loaded
    authorised = lambda roles: len(expand_roles(roles, contains) & members)  # noqa: E731
    expected = authorised(held | add) >= n and authorised(held) < n
    assert bool(assess_grant(rules(ssd), held, add).ssd) == expected


def _policy_with(access: str, assignments: str = "") -> bytes:
    text = DEMO_POLICY.read_text()
    head, _, tail = text.partition("\naccess:\n")
    _, _, rest = tail.partition("\n# Processes:")
    if assignments:
        head = head.replace("\nassignments:\n", "\nassignments:\n" + assignments, 1)
    return f"{head}\naccess:\n{access}\n# Processes:{rest}".encode()


@pytest.mark.parametrize(
    ("access", "message"),
    [
        (
            "  functions: [{id: f1, name: F1, permissions: [payment.enter]}]\n"
            "  risks: [{id: r1, name: R1, level: high, owner: eva.hahn, functions: [f1]}]\n",
            "at least 2 items",
        ),
        (
            "  functions: [{id: f1, name: F1, permissions: [payment.enter]}]\n"
            "  risks: [{id: r1, name: R1, level: high, owner: eva.hahn, functions: [f1, f9]}]\n",
            "unknown function 'f9'",
        ),
        (
            "  functions: [{id: f1, name: F1, permissions: [a]},"
            " {id: f2, name: F2, permissions: [b]}]\n"
            "  risks: [{id: r1, name: R1, level: high, owner: nobody, functions: [f1, f2]}]\n",
            "unknown person 'nobody'",
        ),
        ("  ssd: [{id: s1, name: S1, roles: [trader, no-role], n: 2}]\n", "unknown role 'no-role'"),
        ("  ssd: [{id: s1, name: S1, roles: [trader, employee], n: 3}]\n", "n = 3 but"),
        (
            "  ssd: [{id: s1, name: S1, roles: [research-head, research-analyst], n: 2}]\n",
            "role 'research-head' alone is authorised for research-analyst, research-head",
        ),
        (
            "  ssd: [{id: s1, name: S1, roles: [payment-clerk, payment-releaser], n: 2}]\n",
            "eva.hahn on 2018-02-01: The grant would break separation of duties",
        ),
    ],
)
def test_policy_access_problems_name_the_place(access: str, message: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(_policy_with(access), "bank.yaml")
    text = str(caught.value)
    assert message in text, text
    assert "bank.yaml:" in text


def test_the_demo_policy_loads_with_its_access_rules() -> None:
    document = parse_policy(DEMO_POLICY.read_bytes(), "demo-bank.yaml")
    assert document.policy.access is not None
    assert len(document.policy.access.risks) >= 10 and len(document.policy.access.ssd) >= 6
