"""The credit core on plain data: policy checks, the assessment, and properties over random runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backoffice.core.actors import ActorFacts
from backoffice.core.credit import (
    CareStage,
    CreditAction,
    CreditCase,
    CreditCommand,
    CreditFacts,
    CreditPolicy,
    CreditStatus,
    Decision,
    Flag,
    Move,
    Side,
    Stage,
    add_months,
    as_credit_command,
    assess,
    care_stage,
    check_criteria_editor,
    cooling_off,
    decide,
    replay,
    review_overdue,
)
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Accepted, Command, CommandKind, Context
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.core.processes import ProcessSpec
from tests.conftest import DEMO_POLICY

TODAY = date(2026, 11, 26)
EUR = "EUR"


def money(amount: int | str) -> dict[str, str]:
    return {"amount": str(amount), "currency": EUR}


def make_policy(
    limits: tuple[int, int, int] = (250_000, 1_000_000, 2_500_000),
    threshold: int = 750_000,
    on_dissent: str = "escalate",
    back_office_vote_always: bool = False,
    board_limit: int = 25_000_000,
    committee_limit: int = 50_000_000,
    large: int | None = 30_000_000,
) -> CreditPolicy:
    return CreditPolicy.model_validate(
        {
            "products": [{"id": p, "name": p} for p in ("loan", "always", "never")],
            "ratings": ["1", "2", "3", "4", "5"],
            "risk_relevance": {
                "threshold": money(threshold),
                "always": ["always"],
                "never": ["never"],
                "back_office_vote_always": back_office_vote_always,
            },
            "on_dissent": on_dissent,
            "levels": [
                *(
                    {"id": f"L{i + 1}", "name": f"L{i + 1}", "role": f"l{i + 1}", "limit": money(x)}
                    for i, x in enumerate(limits)
                ),
                {
                    "id": "board",
                    "name": "Board",
                    "kind": "board",
                    "role": "board-member",
                    "limit": money(board_limit),
                },
                {
                    "id": "committee",
                    "name": "Committee",
                    "kind": "committee",
                    "limit": money(committee_limit),
                },
                {"id": "full-board", "name": "Full board", "kind": "full_board"},
            ],
            "committee": {"members": ["bm", "bb", "bn", "m1", "b1"], "quorum": 3},
            "large_exposure_limit": money(large) if large else None,
            "provision_significance_limit": money(250_000),
        }
    )


PROCESS = ProcessSpec.model_validate(
    {
        "id": "credit",
        "name": "Credit",
        "engine": "credit",
        "starter": {"roles": ["officer"]},
        "amount": "amount",
        "payload": [
            {"name": "borrower", "type": "string"},
            {"name": "product", "type": "choice", "choices": ["loan", "always", "never"]},
            {"name": "amount", "type": "amount", "currencies": [EUR]},
        ],
        "steps": [
            {"id": "market", "name": "Market", "who": {"lines": ["market"]}},
            {"id": "back_office", "name": "Back office", "who": {"lines": ["back_office"]}},
            {"id": "board", "name": "Board", "who": {"roles": ["board-member"]}},
            {"id": "control", "name": "Control", "who": {"roles": ["controller"]}},
        ],
    }
)


def person(
    name: str, *lines: Line, level: int | None = None, board: bool = False, **kw: Any
) -> ActorFacts:
    roles = {f"l{level}"} if level else set()
    roles |= {"board-member"} if board else set()
    return ActorFacts(
        person=name,
        lines=frozenset(lines or ((Line.MANAGEMENT,) if board else ())),
        roles=frozenset(roles | set(kw.pop("roles", ()))),
        board_member=board,
        **kw,
    )


MAKER = person("mk", Line.MARKET, roles={"officer"})
SIDES = {"bm": Side.MARKET, "bb": Side.BACK_OFFICE, "bn": Side.BOARD}
SIDES |= {f"m{i}": Side.MARKET for i in range(1, 4)} | {
    f"b{i}": Side.BACK_OFFICE for i in (1, 2, 3)
}
BOARD = frozenset({"bm", "bb", "bn"})


def facts(**kw: Any) -> CreditFacts:
    return CreditFacts(board=BOARD, sides=SIDES, **kw)


def started(
    policy: CreditPolicy,
    amount: int,
    product: str = "loan",
    existing: int = 0,
    insider: bool = False,
) -> CreditCase:
    context = Context(today=TODAY)
    payload = {"borrower": "B1", "product": product, "amount": money(f"{amount}.00")}
    start = decide(
        None,
        CreditCommand(CreditAction.START, payload=payload),
        MAKER,
        context,
        CreditFacts(policy=policy),
        PROCESS,
    )
    assert isinstance(start, Accepted)
    existing_money = Money(Decimal(existing), EUR)
    submit = decide(
        start.case,  # type: ignore[arg-type]
        CreditCommand(CreditAction.SUBMIT),
        MAKER,
        context,
        facts(existing_exposure=existing_money, insider=insider),
    )
    assert isinstance(submit, Accepted)
    case = submit.case
    assert isinstance(case, CreditCase)
    return case


def run(case: CreditCase, actor: ActorFacts, kind: CreditAction, **kw: Any) -> CreditCase | Denied:
    command = CreditCommand(kind, comment=kw.pop("comment", "because"), **kw)
    result = decide(case, command, actor, Context(today=TODAY), facts(moves=kw.pop("moves", ())))
    if isinstance(result, Denied):
        return result
    after = result.case
    assert isinstance(after, CreditCase)
    # the events alone tell the same story (the case is the fold of its events)
    assert replay(PROCESS, after.events) == after
    return after


def test_the_demo_policy_has_a_valid_credit_section() -> None:
    document = parse_policy(DEMO_POLICY.read_bytes(), "demo-bank.yaml")
    credit = document.policy.credit
    assert credit is not None and [lv.id for lv in credit.levels][-1] == "full-board"


def test_a_broken_credit_section_is_reported_with_file_and_line() -> None:
    source = DEMO_POLICY.read_text()
    broken = source.replace("always: [project-finance]", "always: [space-loan]").replace(
        "role: credit-level-2, limit: {amount: 1000000",
        "role: credit-level-9, limit: {amount: 100",
    )
    with pytest.raises(PolicyInvalid) as exc:
        parse_policy(broken.encode(), "p.yaml")
    messages = [str(p) for p in exc.value.problems]
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "space-loan" in text)
    assert any(m.startswith(f"p.yaml:{line}:") and "unknown product" in m for m in messages)
    assert any("unknown role 'credit-level-9'" in m for m in messages)
    assert any("rising limits" in m for m in messages)


def test_a_credit_process_without_a_credit_section_is_refused() -> None:
    source = DEMO_POLICY.read_text()
    without = source[: source.index("\ncredit:")]
    with pytest.raises(PolicyInvalid) as exc:
        parse_policy(without.encode(), "p.yaml")
    assert "needs the policy's 'credit' section" in str(exc.value)


def test_assessment_risk_relevance_level_and_full_board() -> None:
    policy = make_policy()
    eur = Money(Decimal(0), EUR)
    small = assess(policy, "loan", Money(Decimal(50_000), EUR), eur, False)
    assert (small.risk_relevant, small.required_level, small.full_board) == (False, "L1", ())
    at_threshold = assess(policy, "loan", Money(Decimal(750_000), EUR), eur, False)
    assert at_threshold.risk_relevant and at_threshold.required_level == "L2"
    grouped = assess(
        policy, "loan", Money(Decimal(100), EUR), Money(Decimal(29_999_900), EUR), True
    )
    assert grouped.full_board == ("large_exposure", "insider_loan")
    assert grouped.required_level == "committee"
    assert assess(policy, "always", Money(Decimal(1), EUR), eur, False).risk_relevant
    assert not assess(policy, "never", Money(Decimal(9_000_000), EUR), eur, False).risk_relevant


def test_codes_only_the_core_can_give() -> None:
    case = started(make_policy(), 2_000_000)
    missing = run(case, person("m3", Line.MARKET, level=3), CreditAction.VOTE)
    assert isinstance(missing, Denied) and missing.code == "credit.decision_required"
    inactive = person("m3", Line.MARKET, level=3, active=False)
    denied = run(case, inactive, CreditAction.VOTE, decision=Decision.APPROVE)
    assert isinstance(denied, Denied) and denied.code == "actor.inactive"
    generic = as_credit_command(Command(CommandKind.RELEASE))
    assert isinstance(generic, Denied) and generic.code == "step.wrong_action"


def test_cooling_off_lasts_the_policys_days_and_longer_into_internal_audit() -> None:
    policy = make_policy()
    move = Move("corporate-clients", date(2026, 10, 1), Line.BACK_OFFICE, handled=True)
    assert cooling_off(policy, (move,), date(2027, 3, 29)) is not None
    assert cooling_off(policy, (move,), date(2027, 3, 30)) is None  # 180 days later
    audit = Move("trading", date(2026, 1, 1), Line.INTERNAL_AUDIT, handled=True)
    assert cooling_off(policy, (audit,), date(2026, 12, 31)) is not None
    other = Move("corporate-clients", date(2026, 10, 1), Line.BACK_OFFICE, same_unit=True)
    assert cooling_off(policy, (other,), TODAY) is None  # not strict: only what they handled


def test_problem_loans_reviews_and_criteria() -> None:
    criteria = make_policy().problem_loans
    assert care_stage(criteria, 0, False) == CareStage.NORMAL
    assert care_stage(criteria, 0, True) == CareStage.INTENSIVE_CARE
    assert care_stage(criteria, 30, False) == CareStage.INTENSIVE_CARE
    assert care_stage(criteria, 90, True) == CareStage.WORKOUT
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 26), 12) == date(2027, 11, 26)
    assert not review_overdue(date(2025, 11, 26), 12, TODAY)
    assert review_overdue(date(2025, 11, 25), 12, TODAY)
    live, changed = make_policy(), make_policy(threshold=1)
    market, back_office = person("m1", Line.MARKET), person("b1", Line.BACK_OFFICE)
    assert check_criteria_editor(live, changed, market) is None  # only criteria are owned
    stricter = CreditPolicy.model_validate(
        live.model_dump() | {"problem_loans": {"intensive_care": {"days_past_due": 20}}}
    )
    denied = check_criteria_editor(live, stricter, market)
    assert denied is not None and denied.code == "credit.criteria_market"
    assert check_criteria_editor(live, stricter, back_office) is None


# -- properties over random runs -------------------------------------------------------------

CAST = {
    "m1": person("m1", Line.MARKET, level=1),
    "m2": person("m2", Line.MARKET, level=2),
    "m3": person("m3", Line.MARKET, level=3),
    "b1": person("b1", Line.BACK_OFFICE, level=1),
    "b2": person("b2", Line.BACK_OFFICE, level=2),
    "b3": person("b3", Line.BACK_OFFICE, level=3),
    # deployed in both lines (ORG-3): the most dangerous voter there is
    "x": person("x", Line.MARKET, Line.BACK_OFFICE, level=3),
    "bm": person("bm", board=True),
    "bb": person("bb", board=True),
    "bn": person("bn", board=True),
    "mk": MAKER,
}

commands = st.lists(
    st.tuples(
        # the voter deployed in both lines and the highest levels come up more often
        st.sampled_from([*sorted(CAST), "x", "x", "x", "m3", "b3"]),
        st.sampled_from([CreditAction.VOTE, CreditAction.DECIDE, CreditAction.CLOSE]),
        st.sampled_from(list(Decision)),
        st.sampled_from([None, "1", "3", "3"]),
        st.sampled_from(["", "justified"]),
        st.sampled_from([None, Side.MARKET, Side.BACK_OFFICE]),
    ),
    max_size=14,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limits=st.tuples(st.integers(1, 400), st.integers(401, 2_000), st.integers(2_001, 8_000)).map(
        lambda t: tuple(x * 1_000 for x in t)
    ),
    threshold=st.integers(0, 3_000_000),
    on_dissent=st.sampled_from(["reject", "escalate"]),
    always=st.booleans(),
    amount=st.integers(1, 60_000_000),
    existing=st.integers(0, 5_000_000),
    product=st.sampled_from(["loan", "always", "never"]),
    insider=st.booleans(),
    steps=commands,
)
@example(  # a board override of a negative back-office vote (CR-6): flagged
    limits=(250_000, 1_000_000, 2_500_000),
    threshold=750_000,
    on_dissent="escalate",
    always=False,
    amount=2_000_000,
    existing=0,
    product="loan",
    insider=False,
    steps=[
        ("m3", CreditAction.VOTE, Decision.APPROVE, None, "", None),
        ("b3", CreditAction.VOTE, Decision.REJECT, "3", "", None),
        ("bm", CreditAction.DECIDE, Decision.APPROVE, None, "justified", None),
    ],
)
@example(  # one person deployed in both lines tries to cast both votes (ORG-3)
    limits=(250_000, 1_000_000, 2_500_000),
    threshold=750_000,
    on_dissent="escalate",
    always=False,
    amount=2_000_000,
    existing=0,
    product="loan",
    insider=False,
    steps=[
        ("x", CreditAction.VOTE, Decision.APPROVE, None, "", Side.MARKET),
        ("x", CreditAction.VOTE, Decision.APPROVE, "3", "", Side.BACK_OFFICE),
    ],
)
def test_risk_relevant_credit_is_never_approved_without_the_back_office(
    limits: tuple[int, int, int],
    threshold: int,
    on_dissent: str,
    always: bool,
    amount: int,
    existing: int,
    product: str,
    insider: bool,
    steps: list[tuple[str, CreditAction, Decision, str | None, str, Side | None]],
) -> None:
    """CR-2/CR-3/CR-4/CR-6: an approving back-office vote at a sufficient level, or a flagged
    board decision — and never both votes from one person."""
    policy = make_policy(limits, threshold, on_dissent, always)
    case = started(policy, amount, product, existing, insider)
    assessment = case.assessment
    assert assessment is not None
    for who, kind, decision, rating, justification, side in steps:
        after = run(
            case,
            CAST[who],
            kind,
            decision=decision,
            rating=rating,
            justification=justification,
            side=side,
        )
        if isinstance(after, CreditCase):
            case = after
    by_person: dict[str, set[Side]] = {}
    for vote in case.votes:
        if vote.stage in (Stage.VOTES, Stage.ESCALATION):
            by_person.setdefault(vote.actor, set()).add(vote.side)
    assert all(len(sides) == 1 for sides in by_person.values()), by_person
    market = case.vote_of(Side.MARKET)
    back_office = case.vote_of(Side.BACK_OFFICE)
    if market and back_office:
        assert market.actor != back_office.actor
    assert "mk" not in case.voters
    if case.status != CreditStatus.APPROVED or not assessment.risk_relevant:
        return
    exposure = assessment.exposure

    def sufficient(level: str | None, stage: Stage) -> bool:
        if stage in (Stage.COMMITTEE, Stage.FULL_BOARD):
            return True  # the body's level covers: the case was put to it for that
        return level is not None and policy.level(level).covers(exposure, case.product)

    assert Flag.DEVIATING in case.flags or any(
        v.side == Side.BACK_OFFICE
        and v.decision == Decision.APPROVE
        and sufficient(v.level, v.stage)
        for v in case.votes
    ), case.votes


def test_policy_check_summarises_the_kompetenzordnung() -> None:
    from backoffice.policy_cli import check_file

    problems, summary = check_file(str(DEMO_POLICY))
    assert problems == [] and summary is not None
    assert summary["credit"].startswith("levels L1 250,000, L2 1,000,000")
    assert "risk-relevant from 750,000; on dissent escalate" in summary["credit"]
