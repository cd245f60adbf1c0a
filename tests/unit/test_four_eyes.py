"""The decision core: every rule of ``decide`` on plain data, and properties over random runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import (
    DENIAL_CODES,
    Accepted,
    Aggregate,
    Case,
    Command,
    CommandKind,
    Context,
    Delegation,
    Event,
    Status,
    decide,
    replay,
)
from backoffice.core.money import Money
from backoffice.core.org import Line, Period
from backoffice.core.payload import Known, payload_hash
from backoffice.core.processes import AggregateSpec, ExcludeSpec, ProcessSpec, TierSpec

TODAY = date(2026, 11, 26)

PAYMENT = ProcessSpec.model_validate(
    {
        "id": "payment",
        "name": "Payment",
        "starter": {"roles": ["clerk"]},
        "amount": "amount",
        "payload": [
            {"name": "creditor", "type": "string"},
            {"name": "amount", "type": "amount"},
            {"name": "beneficiary", "type": "person", "required": False},
        ],
        "steps": [
            {
                "id": "review",
                "name": "Review",
                "who": {"lines": ["back_office"]},
                "when": "amount >= 5000",
            },
            {
                "id": "release",
                "name": "Release",
                "action": "release",
                "who": {"roles": ["releaser"]},
                "authority": "amount",
                "exclude": {
                    "steps": ["review"],
                    "lines": ["market"],
                    "beneficiaries": ["beneficiary"],
                },
                "tiers": [
                    {"when": "amount < 10000", "approvals": 1},
                    {"when": "amount < 1000000", "approvals": 2},
                    {"approvals": 2, "board": 1, "label": "large"},
                ],
            },
        ],
    }
)


def person(
    name: str,
    *,
    roles: tuple[str, ...] = (),
    lines: tuple[Line, ...] = (Line.BACK_OFFICE,),
    limit: int | None = 5_000_000,
    board: bool = False,
) -> ActorFacts:
    return ActorFacts(
        person=name,
        name=name.title(),
        lines=frozenset(lines),
        roles=frozenset(roles),
        competence=Money(Decimal(limit), "EUR") if limit is not None else None,
        board_member=board,
    )


MAKER = person("mia", roles=("clerk", "releaser"))
CARL = person("carl", roles=("releaser",))
CLARA = person("clara", roles=("releaser",))
REVIEWER = person("rita")
BOARD = person("bert", roles=("releaser",), board=True, limit=50_000_000)
MARKET = person("mark", roles=("releaser",), lines=(Line.MARKET,))
SMALL = person("sam", roles=("releaser",), limit=1_000)
KNOWN = Known(people=frozenset({"carl", "mia"}))


def payload(amount: str = "2500", **extra: Any) -> dict[str, Any]:
    return {"creditor": "ACME", "amount": {"amount": amount, "currency": "EUR"}} | extra


def ctx(*delegations: Delegation, people: dict[str, ActorFacts] | None = None) -> Context:
    return Context(today=TODAY, known=KNOWN, delegations=delegations, people=people or {})


def run(
    case: Case | None,
    kind: CommandKind,
    actor: ActorFacts,
    context: Context | None = None,
    **fields: Any,
) -> Case | Denied:
    command = Command(kind, **fields)
    result = decide(case, command, actor, context or ctx(), PAYMENT)
    return result.case if isinstance(result, Accepted) else result


def submitted(amount: str = "2500", **extra: Any) -> Case:
    case = run(None, CommandKind.START, MAKER, payload=payload(amount, **extra))
    assert isinstance(case, Case)
    case = run(case, CommandKind.SUBMIT, MAKER)
    assert isinstance(case, Case)
    return case


def code(result: Case | Denied) -> str:
    assert isinstance(result, Denied), result
    return result.code


def test_small_payment_is_released_by_one_other_person() -> None:
    case = run(submitted(), CommandKind.RELEASE, CARL)
    assert isinstance(case, Case) and case.status == Status.RELEASED
    assert [e.kind for e in case.events] == ["started", "submitted", "approved", "released"]


def test_the_maker_can_never_release_their_own_case() -> None:
    assert code(run(submitted(), CommandKind.RELEASE, MAKER)) == "sod.self_approval"


def test_a_step_whose_condition_fails_is_skipped_and_one_that_holds_is_not() -> None:
    assert submitted("2500").step == "release"
    assert submitted("7000").step == "review"


def test_n_eyes_by_amount_needs_two_different_people() -> None:
    case = run(submitted("20000"), CommandKind.APPROVE, REVIEWER)
    case = run(case, CommandKind.RELEASE, CARL)
    assert isinstance(case, Case) and case.status == Status.SUBMITTED
    assert code(run(case, CommandKind.RELEASE, CARL)) == "sod.already_approved"
    case = run(case, CommandKind.RELEASE, CLARA)
    assert isinstance(case, Case) and case.status == Status.RELEASED


def test_a_reviewer_may_not_also_release() -> None:
    case = run(submitted("20000"), CommandKind.APPROVE, REVIEWER)
    reviewer_with_role = person("rita", roles=("releaser",))
    assert code(run(case, CommandKind.RELEASE, reviewer_with_role)) == "sod.prior_step_actor"


def test_the_largest_tier_needs_a_board_member() -> None:
    case = run(submitted("1500000"), CommandKind.APPROVE, REVIEWER)
    big = person("carl", roles=("releaser",), limit=5_000_000)
    case = run(case, CommandKind.RELEASE, big)
    assert code(run(case, CommandKind.RELEASE, person("clara", roles=("releaser",)))) == (
        "authority.board_required"
    )
    case = run(case, CommandKind.RELEASE, BOARD)
    assert isinstance(case, Case) and case.status == Status.RELEASED


def test_competence_limit_and_excluded_line_and_beneficiary() -> None:
    assert code(run(submitted(), CommandKind.RELEASE, SMALL)) == "authority.limit_exceeded"
    assert code(run(submitted(), CommandKind.RELEASE, MARKET)) == "sod.line_excluded"
    assert code(run(submitted(beneficiary="carl"), CommandKind.RELEASE, CARL)) == "sod.beneficiary"


def test_wrong_command_for_the_step_and_wrong_state() -> None:
    assert code(run(submitted(), CommandKind.APPROVE, CARL)) == "step.wrong_action"
    released = run(submitted(), CommandKind.RELEASE, CARL)
    assert isinstance(released, Case)
    assert code(run(released, CommandKind.RELEASE, CLARA)) == "case.wrong_state"
    assert code(run(released, CommandKind.WITHDRAW, MAKER)) == "case.wrong_state"


def test_only_eligible_people_act_and_only_makers_submit() -> None:
    assert code(run(submitted(), CommandKind.RELEASE, REVIEWER)) == "step.not_eligible"
    draft = run(None, CommandKind.START, MAKER, payload=payload())
    assert isinstance(draft, Case)
    assert code(run(draft, CommandKind.SUBMIT, CARL)) == "case.not_maker"
    assert code(run(None, CommandKind.START, CARL, payload=payload())) == "process.not_startable"


def test_payload_is_validated_with_every_error() -> None:
    denied = run(
        None,
        CommandKind.START,
        MAKER,
        payload={"amount": {"amount": "-1", "currency": "EUR"}, "x": 1},
    )
    assert isinstance(denied, Denied) and denied.code == "payload.invalid"
    assert dict(denied.details) == {
        "x": "unknown field",
        "creditor": "this field is required",
        "amount": "the amount must be positive",
    }


def test_an_approval_is_bound_to_the_payload_it_saw() -> None:
    case = submitted("20000")
    case = run(case, CommandKind.APPROVE, REVIEWER)
    assert isinstance(case, Case)
    seen = case.payload_hash
    case = run(case, CommandKind.RETURN, CARL, comment="wrong creditor")
    assert isinstance(case, Case) and case.status == Status.RETURNED
    case = run(case, CommandKind.AMEND, MAKER, payload=payload("20000", creditor="ACME AG"))
    case = run(case, CommandKind.SUBMIT, MAKER)
    assert isinstance(case, Case)
    # the review covered the old payload: the case is back at the review step
    assert case.step == "review" and case.approvals("review") == []
    assert (
        code(run(case, CommandKind.APPROVE, REVIEWER, seen_payload_hash=seen)) == "payload.changed"
    )


def test_an_approval_does_not_come_back_when_the_payload_is_changed_back() -> None:
    """#13: approved as A, returned, changed to B, returned, changed back to A: the old
    approval was given in an earlier round and does not count again."""
    case = run(submitted("20000"), CommandKind.APPROVE, REVIEWER)
    case = run(case, CommandKind.RELEASE, CARL)
    assert isinstance(case, Case) and len(case.approvals("release")) == 1
    a_hash = case.payload_hash
    case = run(case, CommandKind.RETURN, CLARA, comment="wrong creditor")
    case = run(case, CommandKind.AMEND, MAKER, payload=payload("20000", creditor="ACME AG"))
    case = run(case, CommandKind.SUBMIT, MAKER)
    case = run(case, CommandKind.RETURN, CLARA, comment="it was right before")
    case = run(case, CommandKind.AMEND, MAKER, payload=payload("20000"))
    case = run(case, CommandKind.SUBMIT, MAKER)
    assert isinstance(case, Case) and case.payload_hash == a_hash
    assert case.step == "review" and case.approvals("review") == []
    assert case.approvals("release") == []
    # the review is repeated; then one release is not enough: the tier needs two
    case = run(case, CommandKind.APPROVE, REVIEWER)
    case = run(case, CommandKind.RELEASE, CLARA)
    assert isinstance(case, Case) and case.status == Status.SUBMITTED
    case = run(case, CommandKind.RELEASE, CARL)  # Carl counts again in the new round
    assert isinstance(case, Case) and case.status == Status.RELEASED


def test_a_return_ends_the_round_even_without_a_change() -> None:
    case = run(submitted("20000"), CommandKind.APPROVE, REVIEWER)
    case = run(case, CommandKind.RETURN, CARL, comment="call the creditor first")
    assert isinstance(case, Case) and case.approvals("review") == []
    case = run(case, CommandKind.SUBMIT, MAKER)
    assert isinstance(case, Case) and case.step == "review"
    assert [case.counts(i) for i in range(len(case.events))] == [False] * len(case.events)


def test_reject_and_return_need_a_reason() -> None:
    assert code(run(submitted(), CommandKind.REJECT, CARL)) == "comment.required"
    case = run(submitted(), CommandKind.REJECT, CARL, comment="duplicate invoice")
    assert isinstance(case, Case) and case.status == Status.REJECTED


def test_a_substitute_acts_with_the_principals_eligibility_but_never_more_competence() -> None:
    boss = person("boss", roles=("releaser",), limit=1_000_000)
    sub = person("sub", roles=(), limit=3_000)
    context = ctx(Delegation("boss", "sub", Period(TODAY)), people={"boss": boss})
    case = run(submitted("2500"), CommandKind.RELEASE, sub, context, on_behalf_of="boss")
    assert isinstance(case, Case) and case.status == Status.RELEASED
    assert case.events[-2].on_behalf_of == "boss"
    # the substitute's own lower limit still applies
    denied = run(submitted("4000"), CommandKind.RELEASE, sub, context, on_behalf_of="boss")
    assert code(denied) == "authority.limit_exceeded"


def test_the_maker_cannot_release_as_someone_elses_substitute() -> None:
    context = ctx(Delegation("carl", "mia", Period(TODAY)), people={"carl": CARL})
    assert code(run(submitted(), CommandKind.RELEASE, MAKER, context, on_behalf_of="carl")) == (
        "sod.self_approval"
    )


def test_nobody_acts_for_the_maker_through_a_chain() -> None:
    # mia (maker) -> carl -> clara: clara acting "for mia" is the maker's own approval
    context = ctx(
        Delegation("mia", "carl", Period(TODAY)),
        Delegation("carl", "clara", Period(TODAY)),
        people={"mia": MAKER, "carl": CARL},
    )
    assert code(run(submitted(), CommandKind.RELEASE, CLARA, context, on_behalf_of="mia")) == (
        "sod.self_approval"
    )


def test_delegation_loops_end_and_expired_delegations_do_not_count() -> None:
    looping = ctx(
        Delegation("carl", "clara", Period(TODAY)),
        Delegation("clara", "carl", Period(TODAY)),
        people={"carl": CARL, "clara": CLARA},
    )
    assert code(run(submitted(), CommandKind.RELEASE, SMALL, looping, on_behalf_of="carl")) == (
        "delegation.invalid"
    )
    expired = ctx(Delegation("carl", "sam", Period(date(2026, 1, 1), TODAY)), people={"carl": CARL})
    assert code(run(submitted(), CommandKind.RELEASE, SMALL, expired, on_behalf_of="carl")) == (
        "delegation.invalid"
    )


def test_inactive_actor_is_refused() -> None:
    inactive = ActorFacts("carl", roles=frozenset({"releaser"}), active=False)
    assert code(run(submitted(), CommandKind.RELEASE, inactive)) == "actor.inactive"


def test_a_condition_that_cannot_be_evaluated_never_means_fewer_eyes() -> None:
    steps = [
        PAYMENT.steps[0].model_copy(update={"when": "amount / 0 > 1"}),
        PAYMENT.steps[1].model_copy(
            update={
                "tiers": [
                    PAYMENT.steps[1].tiers[0].model_copy(update={"when": "nothing < 1"}),
                    *PAYMENT.steps[1].tiers[1:],
                ]
            }
        ),
    ]
    broken = PAYMENT.model_copy(update={"steps": steps})
    case = replay(broken, submitted("100").events)
    assert case.step == "review"  # the failing condition keeps the review step
    assert case.tier(broken.steps[1]).board == 1  # and the strictest tier applies


def test_every_denial_code_is_documented() -> None:
    assert all(code.count(".") == 1 and DENIAL_CODES[code] for code in DENIAL_CODES)


# -- aggregates (#13) -------------------------------------------------------------------

AGGREGATED = PAYMENT.model_copy(
    update={
        "aggregate": AggregateSpec(by="creditor", window="1d"),
        "steps": [PAYMENT.steps[1].model_copy(update={"exclude": ExcludeSpec()})],
    }
)


def related(*amounts: str, currency: str = "EUR") -> Aggregate:
    others = tuple((index + 100, Decimal(a)) for index, a in enumerate(amounts))
    return Aggregate("creditor", "ACME", "1d", currency, others)


def submitted_with(aggregate: Aggregate | None, amount: str = "9999") -> Case | Denied:
    context = replace(ctx(), aggregate=aggregate)
    draft = decide(
        None, Command(CommandKind.START, payload=payload(amount)), MAKER, context, AGGREGATED
    )
    assert isinstance(draft, Accepted)
    result = decide(draft.case, Command(CommandKind.SUBMIT), MAKER, context)
    return result.case if isinstance(result, Accepted) else result


def test_the_tier_is_picked_by_the_sum_with_related_cases() -> None:
    alone = submitted_with(related())
    assert isinstance(alone, Case) and alone.tier(AGGREGATED.steps[0]).approvals == 1
    summed = submitted_with(related("9999"))
    assert isinstance(summed, Case)
    assert summed.aggregate_total == Money(Decimal("19998"), "EUR")
    assert summed.tier(AGGREGATED.steps[0]).approvals == 2
    # one release is not enough, two different people release it
    case = run(summed, CommandKind.RELEASE, CARL)
    assert isinstance(case, Case) and case.status == Status.SUBMITTED
    case = run(case, CommandKind.RELEASE, CLARA)
    assert isinstance(case, Case) and case.status == Status.RELEASED


def test_the_sum_is_kept_with_the_submission_so_replay_gives_the_same_tier() -> None:
    case = submitted_with(related("5000", "9000"))
    assert isinstance(case, Case)
    submitted_event = case.events[-1]
    assert submitted_event.data["aggregate"]["others"] == [
        {"case": 100, "amount": "5000.00"},
        {"case": 101, "amount": "9000.00"},
    ]
    again = replay(AGGREGATED, case.events)
    assert again.aggregate == case.aggregate and again.tier(AGGREGATED.steps[0]).approvals == 2


def test_a_submission_without_the_sum_is_refused_rather_than_given_fewer_eyes() -> None:
    assert code(submitted_with(None)) == "process.aggregate_unknown"


def test_an_aggregate_in_another_currency_is_ignored() -> None:
    case = submitted_with(related("9999", currency="USD"))
    assert isinstance(case, Case) and case.aggregate_total is None
    assert case.tier(AGGREGATED.steps[0]).approvals == 1


def test_a_conditional_step_applies_to_the_case_alone_or_to_its_sum() -> None:
    """The review (``amount >= 5000``) applies to 2,500 sent after 5,000 to one creditor."""
    with_review = PAYMENT.model_copy(
        update={"aggregate": AggregateSpec(by="creditor", window="1d")}
    )
    alone = replay(with_review, _history("2500", related()))
    summed = replay(with_review, _history("2500", related("5000")))
    assert (alone.step, summed.step) == ("release", "review")


@settings(deadline=None)
@given(
    st.sampled_from(["100", "9999", "20000", "2000000"]),
    st.lists(st.sampled_from(["1", "9999", "990000"]), max_size=3),
)
def test_an_aggregate_never_means_fewer_eyes(amount: str, others: list[str]) -> None:
    """Even under tiers that fall with the amount, the stricter of the two tiers counts."""
    falling = AGGREGATED.model_copy(
        update={
            "steps": [
                AGGREGATED.steps[0].model_copy(
                    update={
                        "tiers": [
                            TierSpec(when="amount < 10000", approvals=3),
                            TierSpec(approvals=1),
                        ]
                    }
                )
            ]
        }
    )
    for process in (AGGREGATED, falling):
        step = process.steps[0]
        alone = replay(process, _history(amount, related()))
        summed = replay(process, _history(amount, related(*others)))
        assert summed.tier(step).approvals >= alone.tier(step).approvals


def _history(amount: str, aggregate: Aggregate) -> list[Event]:
    values = payload(amount)
    return [
        Event("started", "mia", payload=values, payload_hash=payload_hash(values)),
        Event("submitted", "mia", data={"aggregate": aggregate.to_data()}),
    ]


# -- properties -------------------------------------------------------------------------

PEOPLE = [
    person("mia", roles=("clerk", "releaser")),
    person("carl", roles=("releaser",)),
    person("clara", roles=("releaser",), limit=20_000),
    person("rita", roles=("releaser",)),
    person("bert", roles=("releaser", "clerk"), board=True, limit=50_000_000),
    person("mark", roles=("releaser", "clerk"), lines=(Line.MARKET,)),
    person("sam", roles=("releaser",), limit=1_000),
]
BY_NAME = {p.person: p for p in PEOPLE}
KINDS = [
    CommandKind.SUBMIT,
    CommandKind.APPROVE,
    CommandKind.RELEASE,
    CommandKind.RETURN,
    CommandKind.REJECT,
    CommandKind.AMEND,
    CommandKind.WITHDRAW,
]

delegations = st.lists(
    st.tuples(st.sampled_from(list(BY_NAME)), st.sampled_from(list(BY_NAME))).filter(
        lambda t: t[0] != t[1]
    ),
    max_size=4,
)
MAKER_COMMANDS = (CommandKind.SUBMIT, CommandKind.AMEND, CommandKind.WITHDRAW)


@st.composite
def histories(
    draw: st.DrawFn,
) -> tuple[str, str, list[tuple[str, Command]], list[tuple[str, str]]]:
    """A maker, an amount, a mostly plausible command sequence (makers submit, others check,
    sometimes as substitutes, sometimes the maker tries to check) and random delegations."""
    maker = draw(st.sampled_from(["mia", "bert", "mark"]))
    amount = draw(st.sampled_from(["100", "7000", "20000", "2000000"]))
    chain = draw(delegations)
    steps: list[tuple[str, Command]] = []
    if draw(st.integers(0, 4)):
        steps.append((maker, Command(CommandKind.SUBMIT)))
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(KINDS))
        if kind == CommandKind.WITHDRAW and draw(st.integers(0, 9)):
            kind = CommandKind.RELEASE  # withdrawing ends a history; keep it rare
        plausible = maker if kind in MAKER_COMMANDS else draw(st.sampled_from(list(BY_NAME)))
        who = draw(st.sampled_from([plausible, plausible, plausible, *BY_NAME]))
        principals = [a for a, b in chain if b == who]
        for_whom = draw(st.sampled_from([None, None, *principals, "mia"]))
        new_amount = draw(st.sampled_from([amount, amount, "100", "20000", "2000000"]))
        command = Command(
            kind, comment="because", payload=payload(new_amount), on_behalf_of=for_whom
        )
        steps.append((who, command))
    return maker, amount, steps, chain


@settings(max_examples=400, deadline=None)
@given(histories())
def test_no_accepted_history_lets_one_person_make_and_check(
    history: tuple[str, str, list[tuple[str, Command]], list[tuple[str, str]]],
) -> None:
    """Whatever happens, nobody both makes and checks, nobody approves a step twice for the
    same payload, a case is released at most once, and every release respected the limits."""
    maker, amount, steps, chain = history
    context = ctx(*(Delegation(a, b, Period(TODAY)) for a, b in chain), people=BY_NAME)
    case = run(None, CommandKind.START, BY_NAME[maker], context, payload=payload(amount))
    assert isinstance(case, Case)
    for who, command in steps:
        result = decide(case, command, BY_NAME[who], context)
        if isinstance(result, Accepted):
            case = result.case
    checks = [e for e in case.events if e.kind in ("approved", "released", "rejected", "returned")]
    assert all(maker not in (e.actor, e.on_behalf_of) for e in checks)
    assert sum(e.kind == "released" for e in case.events) <= 1
    for step in PAYMENT.steps:
        counted = [(e.actor, e.on_behalf_of) for e in case.approvals(step.id)]
        people = [p for pair in counted for p in pair if p]
        assert len(people) == len(set(people))
    if case.status == Status.RELEASED:
        release_amount = Money(Decimal(case.payload["amount"]["amount"]), "EUR")
        for e in case.approvals("release"):
            for name in filter(None, (e.actor, e.on_behalf_of)):
                limit = BY_NAME[name].competence
                assert limit is not None and limit.covers(release_amount)
        tier = case.tier(PAYMENT.steps[1])
        assert len(case.approvals("release")) >= tier.approvals
        assert sum(e.board for e in case.approvals("release")) >= tier.board


@settings(max_examples=300, deadline=None)
@given(histories())
def test_every_approval_that_counts_was_given_in_the_current_round_for_the_current_payload(
    history: tuple[str, str, list[tuple[str, Command]], list[tuple[str, str]]],
) -> None:
    """#13: whatever the returns and amendments (also back to an earlier payload), an
    approval counts only after the last submission, with no return since, for the
    payload the case has now."""
    maker, amount, steps, chain = history
    context = ctx(*(Delegation(a, b, Period(TODAY)) for a, b in chain), people=BY_NAME)
    case = run(None, CommandKind.START, BY_NAME[maker], context, payload=payload(amount))
    assert isinstance(case, Case)
    for who, command in steps:
        result = decide(case, command, BY_NAME[who], context)
        if isinstance(result, Accepted):
            case = result.case
    kinds = [e.kind for e in case.events]
    for step in PAYMENT.steps:
        for approval in case.approvals(step.id):
            index = next(i for i, e in enumerate(case.events) if e is approval)
            assert "submitted" in kinds[:index]
            assert not {"submitted", "returned"} & set(kinds[index + 1 :])
            assert approval.payload_hash == case.payload_hash
    counted = [i for i in range(len(case.events)) if case.counts(i)]
    assert len(counted) == sum(len(case.approvals(s.id)) for s in PAYMENT.steps)


def test_a_command_of_another_engine_is_refused_as_the_wrong_state() -> None:
    """A credit vote sent to a payment is refused, not a crash (the fuzzer found a 500)."""
    from backoffice.core.credit import CreditAction, CreditCommand

    command: Any = CreditCommand(CreditAction.CONTROL, "(control)")
    assert code(decide(submitted(), command, CARL, ctx())) == "case.wrong_state"
