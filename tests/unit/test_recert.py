"""Recertification rules (RECERT-1, RECERT-2): periods per class and the DORA cap, who may
review, overdue and suspension days, and rubber-stamp runs against a brute-force reference."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.recert import (
    RecertSpec,
    add_months,
    delegation_related,
    due_date,
    is_overdue,
    manager_chain,
    recert_due,
    reviewer_for,
    rubber_stamps,
    suspends_on,
)

SPEC = RecertSpec(
    privileged=["admin"],
    material=["releaser", "clerk"],
    critical_functions=["releaser", "archivist"],
    owners={"admin": "owen"},
    suspend_privileged_after_days=14,
)
START = date(2026, 1, 31)


def test_default_periods_per_class_and_the_dora_cap() -> None:
    assert due_date(SPEC, "admin", START) == date(2026, 7, 31)  # privileged: 6 months
    assert due_date(SPEC, "clerk", START) == date(2027, 1, 31)  # material: 12
    assert due_date(SPEC, "releaser", START) == date(2026, 7, 31)  # material, DORA: 6
    assert due_date(SPEC, "reader", START) == date(2029, 1, 31)  # other: 36
    assert due_date(SPEC, "archivist", START) == date(2026, 7, 31)  # other, DORA: 6


def test_the_policy_sets_the_periods() -> None:
    spec = RecertSpec.model_validate(
        {"material": ["clerk"], "periods": {"material": 3, "other": 24}}
    )
    assert due_date(spec, "clerk", START) == date(2026, 4, 30)
    assert due_date(spec, "reader", START) == date(2028, 1, 31)


def test_a_month_end_stays_in_its_month() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 14) == date(2028, 1, 30)


def test_overdue_from_the_day_after_and_only_privileged_items_suspend() -> None:
    due = date(2026, 3, 1)
    assert not is_overdue(due, decided=False, day=due)
    assert is_overdue(due, decided=False, day=due + timedelta(days=1))
    assert not is_overdue(due, decided=True, day=due + timedelta(days=1))
    assert suspends_on(SPEC, "privileged", due) == date(2026, 3, 16)
    assert suspends_on(SPEC, "material", due) is None
    assert suspends_on(RecertSpec(), "privileged", due) is None


def test_the_reviewer_is_never_the_holder_nor_barred() -> None:
    chain = manager_chain(
        "hana",
        ["desk"],
        parent={"desk": "dept", "dept": "board"},
        heads={"desk": ["hana"], "dept": ["mark"], "board": ["bob"]},
        responsible={"dept": ["rita"]},
    )
    assert chain == ["mark", "rita", "bob"]
    assert reviewer_for(SPEC, "hana", "clerk", chain, set()) == "mark"
    assert reviewer_for(SPEC, "hana", "clerk", chain, {"mark"}) == "rita"
    assert reviewer_for(SPEC, "hana", "admin", chain, set()) == "mark"
    owner_first = SPEC.model_copy(update={"reviewer": "role_owner"})
    assert reviewer_for(owner_first, "hana", "admin", chain, set()) == "owen"
    assert reviewer_for(owner_first, "owen", "admin", ["mark"], set()) == "mark"
    assert reviewer_for(SPEC, "hana", "clerk", chain, {"mark", "rita", "bob"}) is None


def test_delegations_bar_both_directions_through_chains() -> None:
    # hana acts for mark, mark for bob; sam acts for hana; ted for sam
    pairs = [("mark", "hana"), ("bob", "mark"), ("hana", "sam"), ("sam", "ted"), ("x", "y")]
    assert delegation_related("hana", pairs) == {"mark", "bob", "sam", "ted"}


T0 = datetime(2026, 12, 1, 9, 0)


def test_more_than_n_in_less_than_m_seconds_is_flagged() -> None:
    fast = [("rita", T0 + timedelta(seconds=5 * i)) for i in range(11)]  # 11 in 50 s
    slow = [("sam", T0 + timedelta(seconds=6 * i)) for i in range(11)]  # 11 in 60 s
    just = [("tom", T0 + timedelta(seconds=i)) for i in range(10)]  # only 10
    bursts = rubber_stamps(fast + slow + just, items=10, seconds=60)
    assert [(b.reviewer, b.items) for b in bursts] == [("rita", 11)]


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(min_value=0, max_value=400)), max_size=40
    ),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=1, max_value=60),
)
def test_rubber_stamps_match_a_brute_force_reference(
    raw: list[tuple[str, int]], items: int, seconds: int
) -> None:
    decisions = [(who, T0 + timedelta(seconds=s)) for who, s in raw]
    bursts = rubber_stamps(decisions, items, seconds)
    window = timedelta(seconds=seconds)
    # a decision is in a flagged run iff some items+1 consecutive decisions around it fit
    expected: set[tuple[str, datetime]] = set()
    for who in "abc":
        times = sorted(t for w, t in decisions if w == who)
        for i in range(len(times)):
            for j in range(i + items, len(times)):
                if times[j] - times[i] < window:
                    expected |= {(who, t) for t in times[i : j + 1]}
    flagged = {
        (b.reviewer, t)
        for b in bursts
        for w, t in decisions
        if w == b.reviewer and b.start <= t <= b.end
    }
    assert flagged == expected
    for b in bursts:
        assert b.items > items


def test_a_policy_change_that_reviews_less_often_weakens_control() -> None:
    from backoffice.core.policy_diff import diff_policies, weakens
    from tests.unit.test_policy_diff import demo, mutated

    def longer(data: dict[str, Any]) -> None:
        data["recertification"]["periods"]["critical_function"] = 12

    def no_suspension(data: dict[str, Any]) -> None:
        del data["recertification"]["suspend_privileged_after_days"]

    def stricter(data: dict[str, Any]) -> None:
        data["recertification"]["material"].remove("master-data-releaser")
        data["recertification"]["privileged"].append("master-data-releaser")

    changes = diff_policies(demo(), mutated(longer))
    assert "role payment-releaser reviewed every 12 months (was 6)" in [c.text for c in changes]
    assert weakens(changes)
    assert weakens(diff_policies(demo(), mutated(no_suspension)))
    tighter = diff_policies(demo(), mutated(stricter))
    assert [c.text for c in tighter] == [
        "role master-data-releaser reviewed every 6 months (was 12)"
    ]
    assert not weakens(tighter)


def test_policy_check_names_an_unknown_role_or_owner_with_its_line() -> None:
    from backoffice.core.policy import PolicyInvalid, parse_policy
    from tests.conftest import DEMO_POLICY

    text = DEMO_POLICY.read_text(encoding="utf-8")
    broken = text.replace(
        "privileged: [administrator, compliance-officer,",
        "privileged: [sysadmin, compliance-officer,",
    ).replace("board-member: martin.jung}", "board-member: nobody.here}")
    assert broken != text
    try:
        parse_policy(broken.encode(), "bank.yaml")
    except PolicyInvalid as exc:
        messages = [str(p) for p in exc.problems]
    else:
        raise AssertionError("the broken policy was accepted")
    line = 1 + text[: text.index("privileged: [administrator")].count("\n")
    assert f"bank.yaml:{line}:" in "\n".join(messages)
    assert any("recertification: unknown role 'sysadmin'" in m for m in messages)
    assert any("unknown owner 'nobody.here'" in m for m in messages)


# RECERT-1: "a transfer or role change triggers an ad-hoc review within N days"
CERTIFIED = date(2026, 1, 10)


def test_a_move_after_the_last_review_brings_the_review_forward() -> None:
    moved = date(2026, 3, 1)
    assert recert_due(SPEC, "nobody-special", CERTIFIED, moved) == (
        moved + timedelta(days=30),
        True,
    )


def test_a_move_before_the_last_review_or_none_leaves_the_period() -> None:
    periodic = due_date(SPEC, "nobody-special", CERTIFIED)
    assert recert_due(SPEC, "nobody-special", CERTIFIED, None) == (periodic, False)
    assert recert_due(SPEC, "nobody-special", CERTIFIED, CERTIFIED) == (periodic, False)
    assert recert_due(SPEC, "nobody-special", CERTIFIED, date(2025, 12, 1)) == (periodic, False)


def test_the_period_stands_when_it_ends_before_the_ad_hoc_review() -> None:
    """A privileged role certified six months ago is due now, move or not."""
    moved = add_months(CERTIFIED, 6) - timedelta(days=5)
    assert recert_due(SPEC, "admin", CERTIFIED, moved) == (add_months(CERTIFIED, 6), False)


def test_a_policy_without_ad_hoc_reviews_keeps_the_periods() -> None:
    spec = SPEC.model_copy(update={"transfer_review_days": None})
    due = recert_due(spec, "admin", CERTIFIED, date(2026, 3, 1))
    assert due == (due_date(spec, "admin", CERTIFIED), False)


@given(
    role=st.sampled_from(["admin", "releaser", "clerk", "archivist", "other"]),
    certified=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    moved=st.none() | st.dates(date(2019, 1, 1), date(2031, 1, 1)),
)
def test_the_due_date_is_the_sooner_of_period_and_move(
    role: str, certified: date, moved: date | None
) -> None:
    due, by_move = recert_due(SPEC, role, certified, moved)
    candidates = [due_date(SPEC, role, certified)]
    if moved is not None and moved > certified:
        candidates.append(moved + timedelta(days=30))
    assert due == min(candidates)
    assert by_move == (due != candidates[0])
