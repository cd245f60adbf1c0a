"""#13: a grant judged on every day it holds, and acting for someone (core only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.access import LEVELS, Assessment, assess_grant
from backoffice.core.access_time import Span, Timeline, assess_grant_over
from backoffice.core.delegation import (
    ActingRules,
    acting_risks,
    assess_delegation_over,
    delegable_permissions,
    delegation_verdict,
    exercised_permissions,
)
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Case, CommandKind, Context, Delegation, Status
from backoffice.core.org import Period
from backoffice.core.processes import WhoSpec
from backoffice.core.roles import permissions_of
from tests.unit.test_access_rules import PAIR, ROLES, TRIAD, risk, rules
from tests.unit.test_four_eyes import TODAY, ctx, person, run, submitted

DAY = date(2027, 1, 1)
RULES = rules(
    PAIR,
    TRIAD,
    risks=[
        risk("enter-release", "high", "enter", "release"),
        risk("trade-settle", "critical", "trade", "settle"),
        risk("control-trade", "medium", "control", "trade"),
        risk("enter-settle", "low", "enter", "settle"),
    ],
)
ROLE_IDS = [r.id for r in ROLES]
CONTAINS = {r.id: r.contains for r in ROLES}
GRANTS = {r.id: r.permissions for r in ROLES}


def day(n: int) -> date:
    return DAY + timedelta(days=n)


def severity(a: Assessment) -> int:
    """Lower is worse: a refusal, then the risk levels, then none."""
    if a.refusal is not None:
        return 0
    return 1 + (LEVELS.index(a.risk) if a.risk != "none" else len(LEVELS))


def test_a_grant_is_judged_against_an_assignment_that_starts_later() -> None:
    """The attack of #13: settlement from day 30 released first, trading from today next."""
    timeline = Timeline(roles=(Span("settler", day(30)),))
    assert assess_grant(RULES, timeline.roles_on(day(0)), ["trader"]).refusal is None
    period = assess_grant_over(RULES, timeline, ["trader"], day(0))
    assert period.refusal is not None
    code, message = period.refusal
    assert code == "access.critical_risk"
    assert message.startswith("From 2027-01-31, when role settler starts: the grant")
    # ending before the other role starts, the grant never meets it
    assert assess_grant_over(RULES, timeline, ["trader"], day(0), day(30)).refusal is None


def test_a_mitigation_that_ends_leaves_the_risk_open_from_the_next_day() -> None:
    timeline = Timeline(
        roles=(Span("clerk", day(-100)),),
        mitigations=(Span("enter-release", day(-5), day(11)),),  # valid until day 10
    )
    within = assess_grant_over(RULES, timeline, ["releaser"], day(0), day(11))
    assert within.risk == "none"
    open_ended = assess_grant_over(RULES, timeline, ["releaser"], day(0))
    assert open_ended.risk == "high"
    assert open_ended.risk_day.day == day(11)
    assert open_ended.risk_day.when() == (
        "from 2027-01-12, when the mitigation of enter-release ends"
    )


spans = st.builds(
    lambda value, start, length: Span(value, day(start), day(start + length) if length else None),
    st.sampled_from(ROLE_IDS),
    st.integers(-5, 20),
    st.integers(0, 15),
)
mitigation_spans = st.builds(
    lambda value, start, length: Span(value, day(start), day(start + length)),
    st.sampled_from(["enter-release", "control-trade", "enter-settle", "trade-settle"]),
    st.integers(-5, 20),
    st.integers(1, 15),
)


@settings(max_examples=150, deadline=None)
@given(
    roles=st.lists(spans, max_size=5),
    mitigations=st.lists(mitigation_spans, max_size=3),
    add=st.sampled_from(ROLE_IDS),
    start=st.integers(0, 10),
    length=st.none() | st.integers(1, 20),
)
def test_the_period_judgement_is_the_worst_of_a_day_by_day_check(
    roles: list[Span],
    mitigations: list[Span],
    add: str,
    start: int,
    length: int | None,
) -> None:
    """Brute force: judge every single day (past every change for an open end)."""
    timeline = Timeline(tuple(roles), tuple(mitigations))
    end = day(start + length) if length is not None else None
    period = assess_grant_over(RULES, timeline, [add], day(start), end)
    last = day(start + length) if length is not None else day(40)
    each = []
    current = day(start)
    while current < last:
        each.append(
            assess_grant(
                RULES, timeline.roles_on(current), [add], (), timeline.mitigated_on(current)
            )
        )
        current += timedelta(days=1)
    # at least as severe as every single day ...
    assert all(severity(period.worst.assessment) <= severity(a) for a in each)
    # ... and exactly the worst of them
    assert severity(period.worst.assessment) == min(severity(a) for a in each)
    levels = {a.risk for a in each}
    assert period.risk == next((level for level in LEVELS if level in levels), "none")
    first_refusal = next((a.refusal for a in each if a.refusal), None)
    assert (period.refusal is None) == (first_refusal is None)
    if first_refusal is not None and period.refusal is not None:
        assert period.refusal[0] == first_refusal[0]


MARKET = frozenset({"pay.enter"})


def test_acting_for_someone_adds_the_function_of_the_act() -> None:
    """A clerk who enters payments releasing one for the releaser holds both (high)."""
    step = WhoSpec(permissions=["pay.release", "board.vote"])
    exercised = exercised_permissions(step, {"pay.release", "read"}, set(), {})
    assert exercised == {"pay.release"}
    assert [r.risk for r in acting_risks(RULES, MARKET, exercised)] == ["enter-release"]
    assert acting_risks(RULES, MARKET, exercised, allowed={"enter-release"}) == ()
    assert acting_risks(RULES, {"pay.release"}, exercised) == ()  # nothing new
    # a critical combination is never allowed, approved or not
    critical = acting_risks(RULES, {"trade"}, {"settle"}, allowed={"trade-settle"})
    assert [r.risk for r in critical] == ["trade-settle"]
    # a medium one is not the act-time check's business
    assert acting_risks(RULES, {"trade"}, {"control"}) == ()


def test_a_step_naming_roles_delegates_the_permissions_of_those_roles() -> None:
    step = WhoSpec(roles=["senior"])
    role_permissions = {"senior": frozenset({"pay.release", "pay.enter"})}
    assert exercised_permissions(step, set(), {"senior"}, role_permissions) == {
        "pay.release",
        "pay.enter",
    }
    assert exercised_permissions(step, set(), {"clerk"}, role_permissions) == set()


def test_a_delegation_is_judged_over_its_period_with_what_the_principal_may_delegate() -> None:
    steps = [WhoSpec(permissions=["pay.release"]), WhoSpec(permissions=["settle"])]

    def permissions(held: Iterable[str]) -> frozenset[str]:
        return permissions_of(held, CONTAINS, GRANTS)

    def delegable(held: Iterable[str]) -> frozenset[str]:
        return delegable_permissions(steps, permissions(held), held, {})

    substitute = Timeline(roles=(Span("clerk", day(-10)),))
    principal = Timeline(roles=(Span("reader", day(-10)), Span("releaser", day(5))))
    period = assess_delegation_over(
        RULES, substitute, principal, day(0), day(10), permissions, delegable, "sophie"
    )
    assert period.risk == "high" and period.risk_day.day == day(5)
    assert "sophie's role releaser starts" in period.risk_day.when()
    assert delegation_verdict(period, "refuse") == (
        "delegation.access_risk",
        "Acting for the absent person would give the substitute a high access risk: "
        "enter-release. Name another substitute.",
    )
    verdict = delegation_verdict(period, "compliance")
    assert verdict is not None and verdict[0] == "delegation.approval_required"
    assert delegation_verdict(period, "approved") is None
    # a delegation that ends before the principal gets the role gives nothing risky
    short = assess_delegation_over(
        RULES, substitute, principal, day(0), day(5), permissions, delegable, "sophie"
    )
    assert delegation_verdict(short, "refuse") is None
    trader = Timeline(roles=(Span("trader", day(-10)),))
    settler = Timeline(roles=(Span("settler", day(-10)),))
    critical = assess_delegation_over(
        RULES, trader, settler, day(0), day(3), permissions, delegable, "sophie"
    )
    verdict = delegation_verdict(critical, "approved")
    assert verdict is not None and verdict[0] == "delegation.access_risk"


def test_decide_refuses_a_substitute_whose_functions_and_the_acts_make_a_high_risk() -> None:
    """The four-eyes engine at the moment of acting (catches delegations made before the
    rule, and roles granted after it): the release step names the role ``releaser``."""
    boss = replace(person("boss", roles=("releaser",)), permissions=frozenset({"pay.release"}))
    clerk = replace(person("sub"), permissions=frozenset({"pay.enter"}))
    reader = replace(person("sub"), permissions=frozenset({"read"}))
    acting = ActingRules(RULES, {"releaser": frozenset({"pay.release"})})

    def context(*delegations: Delegation, mitigated: frozenset[str] = frozenset()) -> Context:
        base = ctx(*delegations, people={"boss": boss, "x": reader})
        return replace(base, acting=replace(acting, mitigated=mitigated))

    plain = context(Delegation("boss", "sub", Period(TODAY)))
    denied = run(submitted(), CommandKind.RELEASE, clerk, plain, on_behalf_of="boss")
    assert isinstance(denied, Denied) and denied.code == "delegation.access_risk"
    assert "enter-release (high)" in denied.message
    # nothing new for someone without payment entry
    released = run(submitted(), CommandKind.RELEASE, reader, plain, on_behalf_of="boss")
    assert isinstance(released, Case) and released.status == Status.RELEASED
    # a mitigation of the actor, or compliance's approval of this delegation, allows it
    for allowed in (
        context(Delegation("boss", "sub", Period(TODAY)), mitigated=frozenset({"enter-release"})),
        context(Delegation("boss", "sub", Period(TODAY), frozenset({"enter-release"}))),
    ):
        done = run(submitted(), CommandKind.RELEASE, clerk, allowed, on_behalf_of="boss")
        assert isinstance(done, Case), done
    # along a chain, every link must carry the approval
    chain = context(
        Delegation("boss", "x", Period(TODAY), frozenset({"enter-release"})),
        Delegation("x", "sub", Period(TODAY)),
    )
    denied = run(submitted(), CommandKind.RELEASE, clerk, chain, on_behalf_of="boss")
    assert isinstance(denied, Denied) and denied.code == "delegation.access_risk"
