"""#13: what a policy change means, and whether it makes control weaker (core.policy_diff)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from itertools import combinations
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.access import RiskSpec, SsdSpec
from backoffice.core.policy import Policy, parse_policy
from backoffice.core.policy_diff import (
    RuleChange,
    _risk_holds,
    _ssd_holds,
    diff_policies,
    parse_bound,
    tiers_weaken,
    weakens,
)
from backoffice.core.processes import TierSpec
from tests.conftest import DEMO_POLICY

Data = dict[str, Any]
Mutation = Callable[[Data], None]


@cache
def demo() -> Policy:
    return parse_policy(DEMO_POLICY.read_bytes(), "demo").policy


def mutated(*mutations: Mutation) -> Policy:
    data = copy.deepcopy(demo().model_dump(mode="json"))
    for mutation in mutations:
        mutation(data)
    return Policy.model_validate(data)


def by_id(items: list[Data], item_id: str, key: str = "id") -> Data:
    return next(i for i in items if i[key] == item_id)


def process(data: Data, process_id: str) -> Data:
    return by_id(data["processes"], process_id)


def step(data: Data, process_id: str, step_id: str) -> Data:
    return by_id(process(data, process_id)["steps"], step_id)


def payment_tiers(data: Data) -> list[Data]:
    tiers: list[Data] = step(data, "payment-release", "release")["tiers"]
    return tiers


# -- the attack ------------------------------------------------------------------------------


def test_raising_the_one_approval_limit_weakens_control_and_says_what_it_means() -> None:
    def raise_limit(data: Data) -> None:
        payment_tiers(data)[0]["when"] = "amount < 100000000"

    changes = diff_policies(demo(), mutated(raise_limit))
    assert [(c.text, c.weakens) for c in changes] == [
        ("payment-release: 1 approval for amount below 100,000,000 (was below 10,000)", True)
    ]


def test_a_policy_compared_with_itself_has_no_changes() -> None:
    assert diff_policies(demo(), demo()) == []
    assert diff_policies(demo(), mutated()) == []


# -- what weakens, one by one -------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutation(data: Data) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutation


def _drop(section: Callable[[Data], list[Data]], item_id: str, key: str = "id") -> Mutation:
    def mutation(data: Data) -> None:
        items = section(data)
        items.remove(by_id(items, item_id, key))

    return mutation


def _edit(find: Callable[[Data], Data], **values: Any) -> Mutation:
    def mutation(data: Data) -> None:
        find(data).update(values)

    return mutation


def risk(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["access"]["risks"], item_id)


def ssd(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["access"]["ssd"], item_id)


def function(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["access"]["functions"], item_id)


def role(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["roles"], item_id)


def person(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["people"], item_id)


def level(item_id: str) -> Callable[[Data], Data]:
    return lambda d: by_id(d["credit"]["levels"], item_id)


def a_step(process_id: str, step_id: str) -> Callable[[Data], Data]:
    return lambda d: step(d, process_id, step_id)


def tier(index: int) -> Callable[[Data], Data]:
    return lambda d: payment_tiers(d)[index]


def _append(section: Callable[[Data], list[Any]], item: Any) -> Mutation:
    def mutation(data: Data) -> None:
        section(data).append(copy.deepcopy(item))

    return mutation


def _remove_from(section: Callable[[Data], list[Any]], item: Any) -> Mutation:
    def mutation(data: Data) -> None:
        section(data).remove(item)

    return mutation


def _exception(data: Data) -> None:
    data["memberships"].append(
        {
            "person": "lukas.becker",
            "unit": "credit-analysis",
            "valid_from": "2026-01-01",
            "valid_to": "2026-04-01",
            "exception": {"reason": "Backlog", "approved_by": "sabine.roth"},
        }
    )


def _new_effect_process(data: Data) -> None:
    copied = copy.deepcopy(process(data, "policy-change"))
    copied["id"] = "policy-change-express"
    copied["steps"] = copied["steps"][:1]
    data["processes"].append(copied)


WEAKENING: dict[str, Mutation] = {
    # access risks and SSD constraints
    "access risk removed": _drop(lambda d: d["access"]["risks"], "payment-entry-release"),
    "access risk level lowered": _edit(risk("admin-approval"), level="medium"),
    "function added to a risk": _append(
        lambda d: risk("bank-details-payment")(d)["functions"], "trading"
    ),
    "permission no longer counts for a function": _edit(
        function("settlement"), permissions=["trade.confirm"]
    ),
    "SSD constraint removed": _drop(lambda d: d["access"]["ssd"], "ssd-security"),
    "role left out of an SSD constraint": _edit(
        ssd("ssd-credit"), roles=["credit-officer", "credit-analyst"]
    ),
    "SSD n raised": _edit(ssd("ssd-credit"), n=3),
    # walls
    "barrier removed": _set(("walls", "barriers", 0, "walled_off_from"), ["public-side"]),
    "area gains a line": _append(
        lambda d: by_id(d["walls"]["areas"], "research")["lines"], "market"
    ),
    "walls control widened": _set(("walls", "control", "lines"), ["compliance", "service"]),
    "walled process unwalled": _drop(
        lambda d: d["walls"]["walled_processes"], "research-publication", key="process"
    ),
    "confidential data made internal": _set(("walls", "walled_processes", 0, "kind"), "internal"),
    "competitors split": _drop(lambda d: d["walls"]["conflict_classes"][0]["issuers"], "rheinbank"),
    "longer crossings": _set(("walls", "max_crossing_days"), 90),
    "walls removed": _set(("walls",), None),
    # separation
    "ORG-3 exception": _exception,
    "unit changes line": _edit(lambda d: by_id(d["units"], "legal"), line="compliance"),
    "joins walls control": _append(
        lambda d: d["memberships"],
        {"person": "oliver.richter", "unit": "compliance", "valid_from": "2026-01-01"},
    ),
    "cooling-off shortened": _set(("credit", "cooling_off", "days"), 90),
    "cooling-off no longer strict": _set(("credit", "cooling_off", "strict"), False),
    # processes
    "step removed": _drop(lambda d: process(d, "role-grant")["steps"], "second_level"),
    "step made conditional": _edit(a_step("master-data-change", "release"), when='field == "iban"'),
    "step condition changed": _edit(
        a_step("master-data-change", "callback"), when='field == "bic"'
    ),
    "fewer approvals": _edit(tier(1), approvals=1),
    "fewer board approvals": _edit(tier(2), board=0),
    "one-approval limit raised": _edit(tier(0), when="amount < 100000000"),
    "tier condition not understood": _edit(tier(0), when="amount < 10000 || amount > 5"),
    "exclusion dropped": _edit(
        a_step("master-data-change", "release"), exclude={"steps": ["callback"]}
    ),
    "who widened": _append(
        lambda d: step(d, "payment-release", "release")["who"]["permissions"], "case.start"
    ),
    "who loses a restriction": _edit(
        a_step("credit-decision", "market"), who={"permissions": ["credit.vote.market"]}
    ),
    "competence check dropped": _edit(a_step("payment-release", "release"), authority=None),
    "derived field filled in by the maker": _edit(
        lambda d: by_id(process(d, "role-grant")["payload"], "risk", key="name"), derived=False
    ),
    "starter exclusion dropped": _edit(lambda d: process(d, "role-grant"), starter_excludes=[]),
    "new route to an effect": _new_effect_process,
    # limits and access
    "competence raised": _edit(
        person("anna.schmidt"), competence={"amount": "6000000", "currency": "EUR"}
    ),
    "competence given": _edit(person("mia.frank"), competence={"amount": "1", "currency": "EUR"}),
    "role gains a permission": _append(
        lambda d: role("employee")(d)["permissions"], "payment.release"
    ),
    "role gains a role": _append(lambda d: role("auditor")(d)["contains"], "payment-clerk"),
    "person gets a role": _append(
        lambda d: d["assignments"],
        {"person": "mia.frank", "role": "payment-releaser", "valid_from": "2026-01-01"},
    ),
    # credit
    "risk relevance later": _set(("credit", "risk_relevance", "threshold", "amount"), "1000000"),
    "product never risk-relevant": _append(
        lambda d: d["credit"]["risk_relevance"]["never"], "mortgage"
    ),
    "authority limit raised": _edit(level("L1"), limit={"amount": "500000", "currency": "EUR"}),
    "authority for more products": _edit(level("L1"), products=[]),
    "committee quorum lowered": _set(("credit", "committee", "quorum"), 2),
    "large exposures later": _set(("credit", "large_exposure_limit", "amount"), "40000000"),
    "intensive care later": _set(
        ("credit", "problem_loans", "intensive_care", "days_past_due"), 45
    ),
    "reviews less often": _set(("credit", "review_months"), 24),
    "dissent escalates": _set(("credit", "on_dissent"), "escalate"),
    # #17 trading
    "trading tolerance widened": _edit(
        lambda d: by_id(d["trading"]["asset_classes"], "equities"), tolerance_pct="5"
    ),
    "instrument in a looser class": _edit(
        lambda d: by_id(d["trading"]["instruments"], "DE0001102580"), asset_class="equities"
    ),
    "trading cut-off later": _set(("trading", "cut_off"), "20:00"),
    "trading cooling-off shortened": _set(("trading", "cooling_off", "days"), 30),
    "trading cooling-off no longer strict": _set(("trading", "cooling_off", "strict"), False),
    "trading section removed": lambda d: d.pop("trading"),
}


#: loosenings of what the demo bank does not have: from a policy that has it
STRICTER_BASE: dict[str, Mutation] = {
    "dissent escalates": _set(("credit", "on_dissent"), "reject"),
    "cooling-off no longer strict": _set(("credit", "cooling_off", "strict"), True),
}


@pytest.mark.parametrize("name", sorted(WEAKENING))
def test_each_loosening_weakens_control(name: str) -> None:
    base = mutated(STRICTER_BASE[name]) if name in STRICTER_BASE else demo()
    changes = diff_policies(base, mutated(WEAKENING[name]))
    assert weakens(changes), changes
    assert all(c.text for c in changes)


TIGHTENING: dict[str, Mutation] = {
    "trading tolerance narrowed": _edit(
        lambda d: by_id(d["trading"]["asset_classes"], "equities"), tolerance_pct="1"
    ),
    "trading cut-off earlier": _set(("trading", "cut_off"), "16:00"),
    "one-approval limit lowered": _edit(tier(0), when="amount < 5000"),
    "more approvals": _edit(tier(1), approvals=3),
    "new step": _append(
        lambda d: process(d, "mitigation")["steps"],
        {"id": "second", "name": "Second", "who": {"permissions": ["mitigation.approve"]}},
    ),
    "step always applies": _edit(a_step("master-data-change", "callback"), when=None),
    "line excluded": _append(
        lambda d: step(d, "research-publication", "release")["exclude"]["lines"], "trading"
    ),
    "who narrowed": _edit(
        a_step("payment-release", "release"), who={"permissions": ["payment.release"]}
    ),
    "risk level raised": _edit(risk("master-data-entry-release"), level="high"),
    "new risk": _append(
        lambda d: d["access"]["risks"],
        {
            "id": "research-trading",
            "name": "Research and trading",
            "level": "high",
            "owner": "clara.vogel",
            "functions": ["research-release", "trading"],
        },
    ),
    "function counts more": _append(
        lambda d: function("payment-entry")(d)["permissions"], "payment.prepare"
    ),
    "role added to an SSD constraint": _append(
        lambda d: ssd("ssd-trading")(d)["roles"], "research-head"
    ),
    "SSD n lowered": _edit(ssd("ssd-treasury"), n=2),
    "new barrier": _append(
        lambda d: d["walls"]["barriers"], {"area": "public-side", "walled_off_from": ["research"]}
    ),
    "shorter crossings": _set(("walls", "max_crossing_days"), 14),
    "issuer joins a class": _append(
        lambda d: d["walls"]["conflict_classes"][1]["issuers"],
        {"id": "busbau", "name": "Busbau AG"},
    ),
    "competence lowered": _edit(
        person("lukas.becker"), competence={"amount": "500000", "currency": "EUR"}
    ),
    "competence removed": _edit(person("paul.meyer"), competence=None),
    "role loses a permission": _remove_from(
        lambda d: role("risk-controller")(d)["permissions"], "reports.read"
    ),
    "authority limit lowered": _edit(level("L2"), limit={"amount": "900000", "currency": "EUR"}),
    "risk relevance earlier": _set(("credit", "risk_relevance", "threshold", "amount"), "500000"),
    "cooling-off longer": _set(("credit", "cooling_off", "internal_audit_days"), 400),
    "committee quorum raised": _set(("credit", "committee", "quorum"), 4),
    "workout earlier": _set(("credit", "problem_loans", "workout", "days_past_due"), 60),
    "reviews more often": _set(("credit", "review_months"), 6),
    "new unit": _append(
        lambda d: d["units"],
        {"id": "facility", "name": "Facility", "line": "support", "parent": "board"},
    ),
}


@given(st.sets(st.sampled_from(sorted(TIGHTENING)), min_size=1))
@settings(max_examples=40, deadline=None)
def test_tightening_never_weakens_and_undoing_it_does(names: set[str]) -> None:
    tightened = mutated(*(TIGHTENING[n] for n in sorted(names)))
    changes = diff_policies(demo(), tightened)
    assert changes and not weakens(changes), [c for c in changes if c.weakens]
    if names - {"new unit"}:
        assert weakens(diff_policies(tightened, demo()))
    assert diff_policies(tightened, tightened) == []


@given(
    st.sampled_from(sorted(WEAKENING.keys() - STRICTER_BASE.keys() - {"walls removed"})),
    st.sets(st.sampled_from(sorted(TIGHTENING)), max_size=4),
)
@settings(max_examples=40, deadline=None)
def test_a_loosening_is_not_hidden_by_tightening_elsewhere(loose: str, tight: set[str]) -> None:
    shared = {
        ("fewer approvals", "more approvals"),
        ("one-approval limit raised", "one-approval limit lowered"),
    }
    tight = {t for t in tight if (loose, t) not in shared}
    policy = mutated(*(TIGHTENING[t] for t in sorted(tight)), WEAKENING[loose])
    assert weakens(diff_policies(demo(), policy))


def test_each_change_says_what_it_means() -> None:
    def texts(*mutations: Mutation) -> list[str]:
        return [c.text for c in diff_policies(demo(), mutated(*mutations))]

    assert texts(WEAKENING["SSD n raised"]) == [
        "SSD constraint ssd-credit: no one may hold 3 of credit-analyst, credit-officer, "
        "problem-loans (was 2 of credit-analyst, credit-officer, problem-loans)"
    ]
    assert texts(WEAKENING["access risk level lowered"]) == [
        "access risk admin-approval: level medium (was high)"
    ]
    assert texts(WEAKENING["fewer board approvals"]) == [
        "payment-release: 2 approvals in every other case (was 2 approvals, 1 of them from "
        "the board)"
    ]
    assert texts(WEAKENING["step removed"]) == [
        "role-grant: step second_level (Second-level approval of the access risk "
        "(compliance)) removed"
    ]
    assert texts(WEAKENING["barrier removed"]) == [
        "Private side (advisory and underwriting): the research line may now read its data (CW-1)",
        "barrier removed: private-side data no longer walled off from research",
    ]
    assert texts(TIGHTENING["new barrier"]) == [
        "barrier: public-side data walled off from research"
    ]
    assert texts(WEAKENING["role gains a permission"])[0] == (
        "role employee gains the permissions payment.release"
    )
    assert texts(WEAKENING["role gains a permission"])[1].startswith(
        "through the role hierarchy, 18 more role(s) gain the same: access-approver, "
    )
    assert texts(WEAKENING["authority limit raised"]) == [
        "credit: level L1 decides up to 500,000 EUR (was 250,000 EUR)"
    ]
    assert texts(WEAKENING["competence raised"]) == [
        "anna.schmidt: competence 6,000,000 EUR (was 5,000,000 EUR)"
    ]


def test_a_risk_renamed_with_the_same_meaning_does_not_weaken() -> None:
    def rename(data: Data) -> None:
        risk("payment-entry-release")(data)["id"] = "payments-four-eyes"

    changes = diff_policies(demo(), mutated(rename))
    assert changes and not weakens(changes)


# -- tiers ------------------------------------------------------------------------------------


def test_tier_conditions_are_read_as_comparisons_or_kept_as_text() -> None:
    assert parse_bound("true") is None
    bound = parse_bound("amount < 10000")
    assert bound is not None and not isinstance(bound, str)
    assert (bound.variable, bound.op, bound.limit) == ("amount", "<", Decimal(10000))
    flipped = parse_bound(" 10000 >= amount ")
    assert not isinstance(flipped, str) and flipped is not None
    assert (flipped.op, flipped.limit) == ("<=", Decimal(10000))
    assert parse_bound("amount < 10000 && amount_currency == 'EUR'") == (
        "amount < 10000 && amount_currency == 'EUR'"
    )


Tier = tuple[str, int, int, int]  # (op, limit, approvals, board)


def tiers_of(rows: list[Tier], last: tuple[int, int]) -> list[TierSpec]:
    tiers = [
        TierSpec(when=f"amount {op} {limit}", approvals=a, board=min(b, a))
        for op, limit, a, b in rows
    ]
    return [*tiers, TierSpec(approvals=last[0], board=min(last[1], last[0]))]


def eyes_at(tiers: list[TierSpec], amount: Decimal) -> tuple[int, int]:
    """The engine's rule, by brute force: the first tier whose condition holds."""
    for t in tiers:
        bound = parse_bound(t.when)
        if bound is None or (not isinstance(bound, str) and bound.holds(amount)):
            return t.approvals, t.board
    raise AssertionError("the last tier always holds")


rows = st.lists(
    st.tuples(
        st.sampled_from(["<", "<=", ">", ">="]),
        st.integers(0, 12),
        st.integers(1, 4),
        st.integers(0, 2),
    ),
    max_size=4,
)
lasts = st.tuples(st.integers(1, 4), st.integers(0, 2))


@given(rows, lasts, rows, lasts)
@settings(max_examples=300, deadline=None)
def test_tiers_weaken_exactly_when_some_amount_needs_fewer_eyes(
    old_rows: list[Tier], old_last: tuple[int, int], new_rows: list[Tier], new_last: tuple[int, int]
) -> None:
    old, new = tiers_of(old_rows, old_last), tiers_of(new_rows, new_last)
    amounts = [Decimal(n) / 2 for n in range(-2, 30)]
    fewer = any(
        after[0] < before[0] or after[1] < before[1]
        for x in amounts
        for before, after in [(eyes_at(old, x), eyes_at(new, x))]
    )
    assert tiers_weaken(old, new) == fewer
    assert not tiers_weaken(old, old)


def test_tiers_not_understood_are_compared_tier_by_tier_or_count_as_weakening() -> None:
    opaque = "amount < 10000 || purpose == 'x'"
    old = [TierSpec(when=opaque, approvals=1), TierSpec(approvals=2)]
    more = [TierSpec(when=opaque, approvals=2), TierSpec(approvals=2)]
    assert not tiers_weaken(old, more)
    assert tiers_weaken(more, old)
    other = [TierSpec(when="amount < 10000 || purpose == 'y'", approvals=2), TierSpec(approvals=3)]
    assert tiers_weaken(old, other)  # cannot be compared: fail-safe


# -- the rules behind risks and SSD constraints, by brute force ------------------------------

PERMISSIONS = ["a", "b", "c", "d"]
ROLES = ["r1", "r2", "r3", "r4", "r5"]
functions = st.dictionaries(
    st.sampled_from(["f1", "f2", "f3"]),
    st.frozensets(st.sampled_from(PERMISSIONS), min_size=1),
    min_size=3,
    max_size=3,
)
risk_functions = st.lists(st.sampled_from(["f1", "f2", "f3"]), min_size=2, max_size=3, unique=True)


def fires(held: frozenset[str], functions: dict[str, frozenset[str]], names: list[str]) -> bool:
    return all(held & functions[f] for f in names)


@given(functions, risk_functions, functions, risk_functions)
@settings(max_examples=300, deadline=None)
def test_a_risk_holds_exactly_when_it_fires_for_everyone_it_fired_for(
    old_functions: dict[str, frozenset[str]],
    old_names: list[str],
    new_functions: dict[str, frozenset[str]],
    new_names: list[str],
) -> None:
    def spec(names: list[str]) -> RiskSpec:
        return RiskSpec(id="r", name="r", level="high", owner="o", functions=names)

    brute = all(
        fires(held, new_functions, new_names)
        for size in range(len(PERMISSIONS) + 1)
        for held in map(frozenset, combinations(PERMISSIONS, size))
        if fires(held, old_functions, old_names)
    )
    assert _risk_holds(spec(old_names), old_functions, spec(new_names), new_functions) == brute


ssd_specs = st.lists(st.sampled_from(ROLES), min_size=2, unique=True).flatmap(
    lambda roles: st.builds(
        lambda n: SsdSpec(id="s", name="s", roles=roles, n=n), st.integers(2, len(roles))
    )
)


@given(ssd_specs, ssd_specs)
@settings(max_examples=300, deadline=None)
def test_an_ssd_constraint_holds_exactly_when_every_breach_still_breaks_it(
    old: SsdSpec, new: SsdSpec
) -> None:
    brute = all(
        len(set(held) & set(new.roles)) >= new.n
        for size in range(len(ROLES) + 1)
        for held in combinations(ROLES, size)
        if len(set(held) & set(old.roles)) >= old.n
    )
    assert _ssd_holds(old, new) == brute


def test_changes_are_typed_for_the_case_page() -> None:
    change = diff_policies(demo(), mutated(WEAKENING["SSD constraint removed"]))[0]
    assert isinstance(change, RuleChange)
    assert (change.section.value, change.subject, change.weakens) == (
        "access",
        "ssd-security",
        True,
    )
