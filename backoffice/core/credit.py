"""Credit decisions as MaRisk BTO 1.1 asks: two votes, a Kompetenzordnung, escalation, committee.

A credit case is a ``cases.Case`` whose process names ``engine: credit``; the cases services
hand its commands to ``decide`` here instead of to ``four_eyes.decide``. Like the four-eyes
engine it is pure: the case is the fold of its events (``replay``), ``decide`` returns the
events a command causes or a ``Denied`` with a stable code, and the facts it needs from the
database (the borrower group's exposure, the voter's moves between units, the board) come in
as ``CreditFacts``. The credit policy (``CreditPolicy``, the ``credit:`` section of the policy
file) is frozen into the case when it starts, so a later policy change never alters the rules
of a case already in flight.

Rules, with their ids (shared/docs/RULES.md):
- CR-1 risk relevance by the group's exposure after this credit and by product lists;
- CR-2 risk-relevant: an approving market vote and an approving back-office vote, by two
  people; otherwise the market vote alone (unless the policy asks for the back office too);
- CR-3 a vote counts only from a voter whose level covers the exposure and the product;
- CR-4 differing votes: rejected, or escalated to a level strictly above both voters; the
  market-independent (back-office) vote is never replaced by a market vote;
- CR-5 committee: quorum with a back-office member; majority and a back-office approval;
- CR-6 a board member deciding against the back-office vote must justify it and the case is
  flagged ``deviating_decision``; any vote or decision of the board member responsible for
  the back office is flagged ``back_office_board_decision``;
- CR-7 large exposures (§13 KWG) and insider loans (§15 KWG) need every board member;
- ORG-3 nobody votes on both sides of one case; COOL-1 cooling-off after a move out of the
  market; PROC-1…PROC-6 problem loans, provisions, rating, reviews, processing control.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Accepted, Context, Event, who_matches
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.core.payload import FieldType, money_of, payload_hash, validated_payload
from backoffice.core.processes import ExcludeSpec, ProcessSpec, StepAction, TierSpec
from backoffice.core.spec import Currency, Key, MoneySpec, Spec

__all__ = [
    "CREDIT_DENIAL_CODES",
    "CareStage",
    "CreditAction",
    "CreditCase",
    "CreditCommand",
    "CreditFacts",
    "CreditPolicy",
    "CreditStatus",
    "Decision",
    "Flag",
    "LevelKind",
    "Move",
    "Side",
    "Stage",
    "Vote",
    "add_months",
    "as_credit_command",
    "assess",
    "care_stage",
    "check_case_lead",
    "check_criteria_editor",
    "check_processing_control",
    "check_provision",
    "cooling_off",
    "credit_policy_problems",
    "credit_process_problems",
    "decide",
    "replay",
    "review_overdue",
]

LevelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]

#: Every denial code of the credit engine and the credit services, with what it means.
CREDIT_DENIAL_CODES: dict[str, str] = {
    "credit.back_office_vote_required": "CR-2/CR-4: the second vote, or an escalation "
    "decision, must come from the back office, not from the market",
    "credit.market_vote_required": "CR-2: the market vote is still missing",
    "credit.vote_not_needed": "CR-2: this business needs no (further) vote of that kind",
    "credit.same_voter": "CR-2/ORG-3: one person never votes on both sides of a case",
    "credit.already_voted": "the person already voted or decided on this case",
    "credit.rationale_required": "every vote, decision and control needs a rationale",
    "credit.decision_required": "a vote or decision must say approve or reject",
    "credit.rating_required": "PROC-4: the back-office vote in risk-relevant business sets "
    "the binding rating (a grade of the policy's scale)",
    "credit.justification_required": "CR-6: a board member deciding against the back-office "
    "vote must justify it",
    "credit.not_committee_member": "CR-5: only members of the credit committee vote there",
    "credit.quorum_not_met": "CR-5: the committee lacks its quorum or a back-office member",
    "credit.control_involved": "PROC-6: the processing-control reviewer may be neither the "
    "processor nor a voter of the case",
    "credit.criteria_market": "PROC-1: problem-loan criteria and the rating scale are changed "
    "only outside the market",
    "credit.case_lead_market": "PROC-2: the lead of intensive care or workout is outside the "
    "market",
    "credit.provision_market": "PROC-3: significant risk provisions are proposed and approved "
    "outside the market",
    "credit.unknown_borrower": "the borrower is not in the borrower register",
    "credit.not_permitted": "the person lacks the permission for this credit action",
    "credit.not_found": "there is no such credit (or the caller may not see it)",
    "reports.forbidden": "registers and reports are for holders of reports.read",
    "authority.limit_exceeded": "CR-3: the exposure exceeds the voter's authority level",
    "authority.product_scope": "CR-3: the voter's authority level does not cover the product",
    "authority.not_above_voters": "CR-4: an escalation is decided only at a level strictly "
    "above both voters",
    "sod.cooling_off": "COOL-1: after a move out of the market the person may not control "
    "business they handled there",
    "sod.self_approval": "the maker (processor) of a case never votes on it",
    "step.not_eligible": "the person may not cast this kind of vote",
    "step.wrong_action": "the command does not apply to credit cases at this stage",
    "case.wrong_state": "the command does not apply in the case's current state",
    "case.not_maker": "only the maker may do this",
    "process.not_startable": "the actor may not start this process",
    "payload.invalid": "the payload does not match the process's schema",
    "payload.changed": "the payload changed since the actor looked at it",
    "actor.inactive": "the actor's account is not active",
    "comment.required": "a comment cannot be empty",
}


# -- the policy section --------------------------------------------------------------------


class LevelKind(StrEnum):
    """Who decides at a level: one person holding its role, a board member, or a body."""

    INDIVIDUAL = "individual"
    BOARD = "board"
    COMMITTEE = "committee"
    FULL_BOARD = "full_board"

    @property
    def collective(self) -> bool:
        return self in (LevelKind.COMMITTEE, LevelKind.FULL_BOARD)


class LevelSpec(Spec):
    """One rung of the Kompetenzordnung (CR-3). Levels are listed lowest first."""

    id: LevelId
    name: Annotated[str, Field(min_length=1)]
    kind: LevelKind = LevelKind.INDIVIDUAL
    #: individual and board levels: the role whose holders have this level
    role: Key | None = None
    #: the largest group exposure decided at this level; None: unlimited
    limit: MoneySpec | None = None
    #: products decided at this level; empty: every product
    products: list[Key] = []

    def covers(self, exposure: Money, product: str) -> bool:
        return self.covers_amount(exposure) and self.covers_product(product)

    def covers_amount(self, exposure: Money) -> bool:
        return self.limit is None or self.limit.to_domain().covers(exposure)

    def covers_product(self, product: str) -> bool:
        return not self.products or product in self.products


class ProductSpec(Spec):
    id: Key
    name: Annotated[str, Field(min_length=1)]


class RiskRelevanceSpec(Spec):
    """CR-1: business is risk-relevant from ``threshold`` (group exposure) or by product."""

    threshold: MoneySpec
    always: list[Key] = []
    never: list[Key] = []
    #: the back office votes on non-risk-relevant business too (CR-2 allows asking for it)
    back_office_vote_always: bool = False


class CommitteeSpec(Spec):
    """CR-5: a credit committee; majority rules under which the back office is never outvoted."""

    name: Annotated[str, Field(min_length=1)] = "Credit committee"
    members: Annotated[list[Key], Field(min_length=2)]
    quorum: Annotated[int, Field(ge=2)]


class CoolingOffSpec(Spec):
    """COOL-1: how long a move out of market or trading bars controls of former business."""

    days: Annotated[int, Field(ge=0, le=3650)] = 180
    internal_audit_days: Annotated[int, Field(ge=0, le=3650)] = 365
    #: strict: every borrower of the former unit, not only business the person handled
    strict: bool = False


class CriteriaSpec(Spec):
    """PROC-2: a credit meets the criteria at ``days_past_due`` or (if set) when forborne."""

    days_past_due: Annotated[int, Field(ge=1, le=3650)]
    forborne: bool = False


class ProblemLoansSpec(Spec):
    intensive_care: CriteriaSpec = CriteriaSpec(days_past_due=30, forborne=True)
    workout: CriteriaSpec = CriteriaSpec(days_past_due=90)


class CreditPolicy(Spec):
    """The ``credit:`` section of a policy file (see docs/credit.md)."""

    currency: Currency = "EUR"
    products: Annotated[list[ProductSpec], Field(min_length=1)]
    #: the rating master scale, best grade first (PROC-4)
    ratings: Annotated[list[Annotated[str, Field(min_length=1, max_length=8)]], Field(min_length=2)]
    risk_relevance: RiskRelevanceSpec
    on_dissent: Literal["reject", "escalate"] = "escalate"
    levels: Annotated[list[LevelSpec], Field(min_length=1)]
    committee: CommitteeSpec | None = None
    #: CR-7, §13 KWG: from this group exposure every board member must approve
    large_exposure_limit: MoneySpec | None = None
    cooling_off: CoolingOffSpec = CoolingOffSpec()
    problem_loans: ProblemLoansSpec = ProblemLoansSpec()
    #: PROC-3: provisions from this amount are significant
    provision_significance_limit: MoneySpec
    #: PROC-5: counterparty risk is reassessed at least this often
    review_months: Annotated[int, Field(ge=1, le=60)] = 12

    def level(self, level_id: str) -> LevelSpec:
        return next(lv for lv in self.levels if lv.id == level_id)

    def index(self, level_id: str) -> int:
        return next(i for i, lv in enumerate(self.levels) if lv.id == level_id)


def credit_policy_problems(
    policy: CreditPolicy, roles: set[str], people: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Reference problems of the credit section as ``(path inside it, message)``."""
    products = [p.id for p in policy.products]
    for index, product in enumerate(products):
        if product in products[:index]:
            yield ("products", index, "id"), f"duplicate product {product!r}"
    for key in ("always", "never"):
        for position, product in enumerate(getattr(policy.risk_relevance, key)):
            if product not in products:
                yield ("risk_relevance", key, position), f"unknown product {product!r}"
    for product in set(policy.risk_relevance.always) & set(policy.risk_relevance.never):
        yield ("risk_relevance", "never"), f"{product!r} cannot be both always and never"
    if len(set(policy.ratings)) != len(policy.ratings):
        yield ("ratings",), "duplicate grade in the rating scale"
    amounts: list[tuple[str | int, ...]] = [("risk_relevance", "threshold")]
    amounts += [("provision_significance_limit",)]
    if policy.large_exposure_limit is not None:
        amounts.append(("large_exposure_limit",))
    seen: list[str] = []
    previous: Money | None = None
    for index, level in enumerate(policy.levels):
        base: tuple[str | int, ...] = ("levels", index)
        if level.id in seen:
            yield (*base, "id"), f"duplicate level {level.id!r}"
        seen.append(level.id)
        if level.kind.collective:
            if level.role is not None:
                yield (*base, "role"), f"a {level.kind.value} level is not held through a role"
        elif level.role is None:
            yield (*base, "role"), "an individual or board level names the role that grants it"
        elif level.role not in roles:
            yield (*base, "role"), f"unknown role {level.role!r}"
        if level.kind == LevelKind.COMMITTEE and policy.committee is None:
            yield (*base, "kind"), "a committee level needs the 'committee' section"
        for position, product in enumerate(level.products):
            if product not in products:
                yield (*base, "products", position), f"unknown product {product!r}"
        if level.limit is not None:
            amounts.append((*base, "limit"))
            limit = level.limit.to_domain()
            if previous is not None and limit.amount <= previous.amount:
                yield (*base, "limit"), "levels are listed lowest first with rising limits"
            previous = limit
        elif index != len(policy.levels) - 1:
            yield (*base, "limit"), "only the last (highest) level may be unlimited"
    top = policy.levels[-1]
    if top.kind != LevelKind.FULL_BOARD or top.limit is not None or top.products:
        yield (
            ("levels", len(policy.levels) - 1),
            "the highest level must be the full board, unlimited and for every product, so "
            "every credit has someone who may decide it",
        )
    for path in amounts:
        money: Any = policy
        for part in path:
            money = money[part] if isinstance(part, int) else getattr(money, str(part))
        if money.currency != policy.currency:
            yield path, f"amounts are in the credit currency {policy.currency}"
    if policy.committee is not None:
        for position, person in enumerate(policy.committee.members):
            if person not in people:
                yield ("committee", "members", position), f"unknown person {person!r}"
        if policy.committee.quorum > len(policy.committee.members):
            yield ("committee", "quorum"), "the quorum exceeds the number of members"


#: The steps a credit process names: who may cast which vote (their ``who``), nothing else.
CREDIT_STEPS = {
    "market": "who may cast the market vote (first vote)",
    "back_office": "who may cast the back-office vote (second, market-independent vote)",
    "board": "which board members vote and decide as individuals",
    "control": "who does the processing control of decided cases (PROC-6)",
}


def credit_process_problems(
    process: ProcessSpec, policy: CreditPolicy | None
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """A credit process reads its steps as vote eligibility and needs borrower/product/amount."""
    if policy is None:
        yield ("engine",), "the credit engine needs the policy's 'credit' section"
        return
    ids = [s.id for s in process.steps]
    for index, step in enumerate(process.steps):
        if step.id not in CREDIT_STEPS:
            yield (
                ("steps", index, "id"),
                (f"the credit engine reads only steps {', '.join(CREDIT_STEPS)}"),
            )
        if (step.action, step.authority, step.tiers, step.exclude, step.when) != (
            StepAction.APPROVE,
            None,
            [TierSpec()],
            ExcludeSpec(),
            None,
        ):
            yield ("steps", index), "a credit step has only id, name and who"
    for required in ("market", "back_office"):
        if required not in ids:
            yield ("steps",), f"a credit process needs the step {required!r}"
    borrower = process.field("borrower")
    if borrower is None or borrower.type != FieldType.STRING:
        yield ("payload",), "a credit process needs a string field 'borrower'"
    product = process.field("product")
    if product is None or product.type != FieldType.CHOICE:
        yield ("payload",), "a credit process needs a choice field 'product'"
    elif sorted(product.choices) != sorted(p.id for p in policy.products):
        yield ("payload",), "the 'product' choices must be the credit section's products"
    amount = process.field(process.amount) if process.amount else None
    if amount is None or amount.type != FieldType.AMOUNT:
        yield ("amount",), "a credit process names its requested amount field in 'amount'"
    elif amount.currencies != [policy.currency]:
        yield ("amount",), f"the requested amount must be in {policy.currency} only"


# -- facts, commands, events ---------------------------------------------------------------


class CreditStatus(StrEnum):
    """DRAFT → IN_VOTING → APPROVED | REJECTED | ESCALATED → APPROVED | REJECTED (RULES 1.6)."""

    DRAFT = "draft"
    IN_VOTING = "in_voting"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (CreditStatus.APPROVED, CreditStatus.REJECTED, CreditStatus.WITHDRAWN)


class Stage(StrEnum):
    """Who is to act: the two voters, an escalation decider, the committee, the full board."""

    VOTES = "votes"
    ESCALATION = "escalation"
    COMMITTEE = "committee"
    FULL_BOARD = "full_board"


class Side(StrEnum):
    MARKET = "market"
    BACK_OFFICE = "back_office"
    #: a board member who answers for neither market nor back office
    BOARD = "board"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Flag(StrEnum):
    """What the risk report must highlight (CR-6, MaRisk BTO 1.1 Tz. 2)."""

    DEVIATING = "deviating_decision"
    BACK_OFFICE_BOARD = "back_office_board_decision"


class CreditAction(StrEnum):
    START = "start"
    SUBMIT = "submit"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    COMMENT = "comment"
    VOTE = "vote"
    DECIDE = "decide"
    CLOSE = "close"
    CONTROL = "control"


@dataclass(frozen=True)
class CreditCommand:
    """A command on a credit case; ``comment`` is the rationale of a vote or decision."""

    kind: CreditAction
    comment: str = ""
    payload: Mapping[str, Any] | None = None
    decision: Decision | None = None
    rating: str | None = None
    justification: str = ""
    #: only for someone deployed in both lines (ORG-3): which side they vote for
    side: Side | None = None
    seen_payload_hash: str | None = None
    #: votes are personal (they carry the voter's level): no acting for others
    on_behalf_of: None = None


def as_credit_command(command: Any) -> CreditCommand | Denied:
    """A generic command (``four_eyes.Command`` from the cases API) as a credit command.

    Submit, amend, withdraw and comment mean the same on a credit case; approve, release,
    return and reject do not exist there: credit cases are voted on (``vote``/``decide``).
    """
    if isinstance(command, CreditCommand):
        return command
    kind = str(command.kind)
    if kind not in {a.value for a in CreditAction} or getattr(command, "on_behalf_of", None):
        return Denied(
            "step.wrong_action",
            f"A credit case takes no '{kind}' (nor acting for others); it is decided by votes "
            "(POST /api/v1/credit/cases/{id}/votes).",
        )
    return CreditCommand(
        CreditAction(kind),
        comment=command.comment,
        payload=command.payload,
        seen_payload_hash=command.seen_payload_hash,
    )


@dataclass(frozen=True)
class Move:
    """The actor left a market or trading unit for a control line on ``on`` (COOL-1).

    ``handled``: they made, voted on or looked after business of this case's borrower group
    before the move; ``same_unit``: the borrower belongs to the unit they left.
    """

    from_unit: str
    on: date
    to_line: Line
    handled: bool = False
    same_unit: bool = False


@dataclass(frozen=True)
class CreditFacts:
    """What the credit rules need besides the actor's facts, gathered by the credit app."""

    #: the live credit policy; used at start, afterwards the case's frozen one counts
    policy: CreditPolicy | None = None
    #: the borrower group's exposure without this case (approved and pending credits)
    existing_exposure: Money | None = None
    #: §15 KWG: the borrower is an insider (CR-7)
    insider: bool = False
    #: active board members today (CR-7 needs all of them)
    board: frozenset[str] = frozenset()
    #: the side each board and committee member votes for (their line or responsibility)
    sides: Mapping[str, Side] = field(default_factory=dict)
    #: the actor's recent moves out of market or trading (COOL-1)
    moves: tuple[Move, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """CR-1/CR-3/CR-7, fixed when the case is submitted."""

    requested: Money
    existing: Money
    exposure: Money
    risk_relevant: bool
    relevance: str
    required_level: str
    back_office_vote: bool
    full_board: tuple[str, ...]


def assess(
    policy: CreditPolicy, product: str, requested: Money, existing: Money, insider: bool
) -> Assessment:
    """Exposure = the group's total after this credit; risk relevance; the level it needs."""
    exposure = Money(existing.amount + requested.amount, requested.currency)
    rr = policy.risk_relevance
    threshold = rr.threshold.to_domain()
    if product in rr.always:
        relevant, why = True, f"product {product} is always risk-relevant"
    elif product in rr.never:
        relevant, why = False, f"product {product} is never risk-relevant"
    elif threshold.covers(exposure) and exposure != threshold:
        relevant, why = False, f"group exposure {exposure} is below {threshold}"
    else:
        relevant, why = True, f"group exposure {exposure} reaches {threshold}"
    required = next(lv.id for lv in policy.levels if lv.covers(exposure, product))
    reasons = []
    large = policy.large_exposure_limit.to_domain() if policy.large_exposure_limit else None
    if large is not None and (
        large.currency != exposure.currency or exposure.amount >= large.amount
    ):
        reasons.append("large_exposure")
    if insider:
        reasons.append("insider_loan")
    if policy.level(required).kind == LevelKind.FULL_BOARD:
        reasons.append("full_board_level")
    return Assessment(
        requested=requested,
        existing=existing,
        exposure=exposure,
        risk_relevant=relevant,
        relevance=why,
        required_level=required,
        back_office_vote=relevant or rr.back_office_vote_always,
        full_board=tuple(reasons),
    )


@dataclass(frozen=True)
class Vote:
    """A vote or decision as the case remembers it."""

    actor: str
    stage: Stage
    side: Side
    decision: Decision
    level: str | None
    rating: str | None
    rationale: str
    decided: bool = False  # an escalation decision rather than a vote


@dataclass(frozen=True)
class CreditCase:
    """The state of a credit case, derived from its events by ``replay``."""

    process: ProcessSpec
    policy: CreditPolicy
    maker: str
    status: CreditStatus
    payload: Mapping[str, Any]
    payload_hash: str
    events: tuple[Event, ...]
    stage: Stage | None = None
    assessment: Assessment | None = None
    votes: tuple[Vote, ...] = ()
    flags: frozenset[Flag] = frozenset()
    escalation_level: str | None = None
    controlled_by: tuple[str, ...] = ()

    @property
    def step(self) -> str | None:
        """The projection's ``current_step``: the stage while the case is open."""
        return self.stage.value if self.stage and not self.status.is_final else None

    @property
    def current_step(self) -> None:
        """Four-eyes steps do not apply; the generic case view shows no step approvals."""
        return None

    @property
    def product(self) -> str:
        return str(self.payload.get("product", ""))

    @property
    def requested(self) -> Money | None:
        return money_of(self.payload.get(self.process.amount or "amount"))

    def stage_votes(self, stage: Stage | None = None) -> list[Vote]:
        return [v for v in self.votes if v.stage == (stage or self.stage)]

    def vote_of(self, side: Side, stage: Stage = Stage.VOTES) -> Vote | None:
        return next((v for v in self.stage_votes(stage) if v.side == side), None)

    @property
    def voters(self) -> set[str]:
        return {v.actor for v in self.votes}

    @property
    def binding_rating(self) -> str | None:
        """PROC-4: the back office's grade in risk-relevant business; else the market's."""
        bo = [v.rating for v in self.votes if v.side == Side.BACK_OFFICE and v.rating]
        market = [v.rating for v in self.votes if v.side == Side.MARKET and v.rating]
        if self.assessment is not None and self.assessment.risk_relevant:
            return bo[-1] if bo else None
        chosen = bo or market
        return chosen[-1] if chosen else None


@lru_cache(maxsize=64)
def _policy_from_json(canonical: str) -> CreditPolicy:
    return CreditPolicy.model_validate_json(canonical)


def _frozen_policy(data: Mapping[str, Any]) -> CreditPolicy:
    return _policy_from_json(json.dumps(data["policy"], sort_keys=True))


def replay(process: ProcessSpec, events: tuple[Event, ...] | list[Event]) -> CreditCase:
    """The credit case ``events`` describe; the first is ``started`` with the frozen policy."""
    first = events[0]
    assert first.kind == "started" and first.payload is not None
    case = CreditCase(
        process=process,
        policy=_frozen_policy(first.data),
        maker=first.actor,
        status=CreditStatus.DRAFT,
        payload=first.payload,
        payload_hash=first.payload_hash or payload_hash(first.payload),
        events=(first,),
    )
    for event in events[1:]:
        case = _apply(case, event)
    return case


def _apply(case: CreditCase, event: Event) -> CreditCase:
    case = replace(case, events=(*case.events, event))
    data = event.data
    match event.kind:
        case "amended":
            assert event.payload is not None
            return replace(case, payload=event.payload, payload_hash=event.payload_hash or "")
        case "submitted":
            requested = case.requested
            assert requested is not None
            existing = money_of(data["existing_exposure"]) or Money(Decimal(0), requested.currency)
            assessment = assess(
                case.policy, case.product, requested, existing, bool(data.get("insider"))
            )
            return replace(
                case,
                status=CreditStatus.IN_VOTING,
                assessment=assessment,
                stage=Stage(data["stage"]),
            )
        case "voted" | "decided":
            vote = Vote(
                actor=event.actor,
                stage=Stage(event.step or Stage.VOTES.value),
                side=Side(data["side"]),
                decision=Decision(data["decision"]),
                level=data.get("level"),
                rating=data.get("rating"),
                rationale=event.comment,
                decided=event.kind == "decided",
            )
            flags = case.flags | {Flag(f) for f in data.get("flags", ())}
            return replace(case, votes=(*case.votes, vote), flags=flags)
        case "escalated":
            return replace(
                case,
                status=CreditStatus.ESCALATED,
                stage=Stage(data["stage"]),
                escalation_level=data["level"],
            )
        case "forwarded":
            return replace(case, stage=Stage(data["stage"]))
        case "approved":
            return replace(case, status=CreditStatus.APPROVED)
        case "rejected":
            return replace(case, status=CreditStatus.REJECTED)
        case "withdrawn":
            return replace(case, status=CreditStatus.WITHDRAWN)
        case "controlled":
            return replace(case, controlled_by=(*case.controlled_by, event.actor))
        case _:
            return case


# -- decide --------------------------------------------------------------------------------


def decide(
    case: CreditCase | None,
    command: CreditCommand,
    actor: ActorFacts,
    context: Context,
    facts: CreditFacts,
    process: ProcessSpec | None = None,
) -> Accepted | Denied:
    """Accept a command with the events it causes, or deny it with a stable code."""
    if not actor.active:
        return Denied("actor.inactive", f"{actor.name or actor.person}'s account is not active.")
    if command.kind == CreditAction.START:
        assert process is not None and facts.policy is not None
        return _start(process, command, actor, context, facts.policy)
    assert case is not None
    if command.seen_payload_hash and command.seen_payload_hash != case.payload_hash:
        return Denied(
            "payload.changed",
            "The case changed since you opened it; look at the current version first.",
        )
    return _HANDLERS[command.kind](case, command, actor, context, facts)


def _accept(case: CreditCase, *events: Event) -> Accepted:
    for event in events:
        case = _apply(case, event)
    return Accepted(tuple(events), case)  # type: ignore[arg-type]


def _start(
    process: ProcessSpec,
    command: CreditCommand,
    actor: ActorFacts,
    context: Context,
    policy: CreditPolicy,
) -> Accepted | Denied:
    if not who_matches(process.starter, actor):
        return Denied(
            "process.not_startable",
            f"{process.name} can be started only by {process.starter.describe()}.",
        )
    values, invalid = validated_payload(process.payload, command.payload, context.known)
    if invalid:
        return invalid
    event = Event(
        "started",
        actor.person,
        payload=values,
        payload_hash=payload_hash(values),
        comment=command.comment,
        data={"policy": policy.model_dump(mode="json")},
    )
    return Accepted((event,), replay(process, (event,)))  # type: ignore[arg-type]


def _wrong_state(case: CreditCase, what: str) -> Denied:
    return Denied(
        "case.wrong_state", f"A credit case that is {case.status.value} cannot be given '{what}'."
    )


def _maker_only(case: CreditCase, actor: ActorFacts, what: str) -> Denied | None:
    if actor.person != case.maker:
        return Denied("case.not_maker", f"Only the maker ({case.maker}) may {what} this case.")
    return None


def _submit(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if case.status != CreditStatus.DRAFT:
        return _wrong_state(case, cmd.kind)
    if denied := _maker_only(case, actor, "submit"):
        return denied
    requested = case.requested
    assert requested is not None
    existing = facts.existing_exposure or Money(Decimal(0), requested.currency)
    assessment = assess(case.policy, case.product, requested, existing, facts.insider)
    kind = case.policy.level(assessment.required_level).kind
    stage = {LevelKind.COMMITTEE: Stage.COMMITTEE, LevelKind.FULL_BOARD: Stage.FULL_BOARD}.get(
        kind, Stage.VOTES
    )
    data = {
        "existing_exposure": {"amount": f"{existing.amount:.2f}", "currency": existing.currency},
        "insider": facts.insider,
        "stage": stage.value,
        "exposure": {
            "amount": f"{assessment.exposure.amount:.2f}",
            "currency": assessment.exposure.currency,
        },
        "risk_relevant": assessment.risk_relevant,
        "required_level": assessment.required_level,
        "full_board": list(assessment.full_board),
    }
    return _accept(
        case,
        Event(
            "submitted",
            actor.person,
            payload_hash=case.payload_hash,
            comment=cmd.comment,
            data=data,
        ),
    )


def _amend(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if case.status != CreditStatus.DRAFT:
        return Denied(
            "case.wrong_state", "A credit case is changed only as a draft, before voting starts."
        )
    if denied := _maker_only(case, actor, "amend"):
        return denied
    values, invalid = validated_payload(case.process.payload, cmd.payload, ctx.known)
    if invalid:
        return invalid
    return _accept(
        case,
        Event(
            "amended",
            actor.person,
            payload=values,
            payload_hash=payload_hash(values),
            comment=cmd.comment,
        ),
    )


def _withdraw(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if case.status.is_final:
        return _wrong_state(case, cmd.kind)
    if denied := _maker_only(case, actor, "withdraw"):
        return denied
    return _accept(case, Event("withdrawn", actor.person, comment=cmd.comment))


def _comment(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if not cmd.comment.strip():
        return Denied("comment.required", "A comment cannot be empty.")
    return _accept(case, Event("commented", actor.person, comment=cmd.comment.strip()))


# -- who votes, at which level -------------------------------------------------------------


def _step(case: CreditCase, step_id: str) -> Any:
    return next((s for s in case.process.steps if s.id == step_id), None)


def _eligible(case: CreditCase, step_id: str, actor: ActorFacts) -> bool:
    step = _step(case, step_id)
    return step is not None and who_matches(step.who, actor)


def _side(
    case: CreditCase, actor: ActorFacts, facts: CreditFacts, wanted: Side | None
) -> Side | Denied:
    """Market or back office: by the voter's line; a board member's by their responsibility.

    The line is checked here whatever the policy's ``who`` says, so a market person can
    never cast the back-office vote (CR-2).
    """
    if actor.board_member:
        side = facts.sides.get(actor.person, Side.BOARD)
        if not _eligible(case, "board", actor) or (wanted and wanted != side):
            return Denied(
                "step.not_eligible", "You may not vote on credit cases as a board member."
            )
        return side
    sides = []
    if Line.MARKET in actor.lines and _eligible(case, "market", actor):
        sides.append(Side.MARKET)
    if Line.BACK_OFFICE in actor.lines and _eligible(case, "back_office", actor):
        sides.append(Side.BACK_OFFICE)
    if wanted is not None:
        sides = [s for s in sides if s == wanted]
    if len(sides) != 1:
        why = "say which side you vote for" if sides else "you may cast neither vote"
        return Denied(
            "step.not_eligible",
            f"Credit votes come from the market and the back office; {why}.",
        )
    return sides[0]


def _level_of(policy: CreditPolicy, actor: ActorFacts) -> int | None:
    """The index of the highest individual or board level the actor holds (by its role)."""
    held = [
        i
        for i, lv in enumerate(policy.levels)
        if not lv.kind.collective
        and lv.role in actor.roles
        and (lv.kind != LevelKind.BOARD or actor.board_member)
    ]
    return max(held) if held else None


def _authority(case: CreditCase, actor: ActorFacts) -> int | Denied:
    """CR-3: the voter's level must cover the group exposure and the product."""
    assert case.assessment is not None
    exposure, product = case.assessment.exposure, case.product
    index = _level_of(case.policy, actor)
    if index is None:
        return Denied(
            "authority.limit_exceeded",
            f"You hold no credit authority level; {exposure} needs at least level "
            f"{case.assessment.required_level} (CR-3).",
        )
    level = case.policy.levels[index]
    if not level.covers_amount(exposure):
        return Denied(
            "authority.limit_exceeded",
            f"The group exposure {exposure} exceeds your level {level.id} "
            f"({level.limit.to_domain() if level.limit else 'unlimited'}); it needs level "
            f"{case.assessment.required_level} (CR-3).",
        )
    if not level.covers_product(product):
        return Denied(
            "authority.product_scope",
            f"Your level {level.id} does not cover the product {product} (CR-3).",
        )
    return index


def cooling_off(policy: CreditPolicy, moves: tuple[Move, ...], today: date) -> Denied | None:
    """COOL-1: within the period after a move, no control of business handled before it."""
    spec = policy.cooling_off
    for move in moves:
        days = spec.internal_audit_days if move.to_line == Line.INTERNAL_AUDIT else spec.days
        ends = move.on + timedelta(days=days)
        if today < ends and (move.handled or (spec.strict and move.same_unit)):
            what = "business you handled" if move.handled else "borrowers of your former unit"
            return Denied(
                "sod.cooling_off",
                f"You moved out of {move.from_unit} on {move.on.isoformat()}; until "
                f"{ends.isoformat()} you may not control {what} there (COOL-1, "
                "MaRisk AT 4.3.1).",
            )
    return None


def _common(case: CreditCase, cmd: CreditCommand, actor: ActorFacts) -> Denied | None:
    """What every vote and decision shares: the maker never votes; a rationale; a decision."""
    if actor.person == case.maker:
        return Denied(
            "sod.self_approval",
            "The maker of a credit case does not vote on it; the votes come from others.",
        )
    if cmd.decision is None:
        return Denied("credit.decision_required", "Say whether you approve or reject.")
    if not cmd.comment.strip():
        return Denied("credit.rationale_required", "Give the rationale of your vote.")
    return None


def _rating(case: CreditCase, cmd: CreditCommand, side: Side) -> Denied | None:
    """PROC-4: the back office sets the binding rating in risk-relevant business."""
    assert case.assessment is not None
    scale = case.policy.ratings
    needed = side == Side.BACK_OFFICE and case.assessment.risk_relevant
    if (needed and not cmd.rating) or (cmd.rating and cmd.rating not in scale):
        return Denied(
            "credit.rating_required",
            f"The back-office vote sets the binding rating: one of {', '.join(scale)} (PROC-4).",
        )
    return None


def _vote_event(
    case: CreditCase,
    cmd: CreditCommand,
    actor: ActorFacts,
    side: Side,
    level: int | None,
    flags: set[Flag],
    kind: str = "voted",
) -> Event:
    assert case.stage is not None and cmd.decision is not None
    data: dict[str, Any] = {
        "side": side.value,
        "decision": cmd.decision.value,
        "level": case.policy.levels[level].id if level is not None else None,
        "rating": cmd.rating,
        "flags": sorted(f.value for f in flags),
    }
    if cmd.justification.strip():
        data["justification"] = cmd.justification.strip()
    return Event(
        kind,
        actor.person,
        step=case.stage.value,
        payload_hash=case.payload_hash,
        comment=cmd.comment.strip(),
        board=actor.board_member,
        data=data,
    )


def _board_flags(actor: ActorFacts, side: Side) -> set[Flag]:
    """CR-6: any vote or decision of the back office's board member is highlighted."""
    return {Flag.BACK_OFFICE_BOARD} if actor.board_member and side == Side.BACK_OFFICE else set()


# -- votes ---------------------------------------------------------------------------------


def _vote(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if case.status not in (CreditStatus.IN_VOTING, CreditStatus.ESCALATED):
        return _wrong_state(case, cmd.kind)
    if case.stage == Stage.ESCALATION:
        return Denied(
            "step.wrong_action",
            f"The case is escalated to level {case.escalation_level}; it is decided with "
            "'decide' by someone at that level (CR-4).",
        )
    if denied := _common(case, cmd, actor):
        return denied
    if case.stage == Stage.COMMITTEE:
        return _committee_vote(case, cmd, actor, ctx, facts)
    if case.stage == Stage.FULL_BOARD:
        return _board_vote(case, cmd, actor, ctx, facts)
    return _pair_vote(case, cmd, actor, ctx, facts)


def _already(case: CreditCase, actor: ActorFacts, side: Side | None) -> Denied | None:
    """ORG-3/CR-2: one vote per person per case, never one on each side."""
    mine = [v for v in case.votes if v.actor == actor.person]
    if not mine:
        return None
    if side is not None and any(v.side != side for v in mine):
        return Denied(
            "credit.same_voter",
            "You voted on the other side of this case; nobody votes on both sides (CR-2, ORG-3).",
        )
    return Denied("credit.already_voted", "You already voted on this case.")


def _pair_vote(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    assert case.assessment is not None
    side = _side(case, actor, facts, cmd.side)
    if isinstance(side, Denied):
        return side
    if side == Side.BOARD:
        return Denied(
            "step.not_eligible",
            "Votes come from the market and the back office; a board member who answers for "
            "neither decides only escalations, in the committee or as the full board.",
        )
    if denied := _already(case, actor, side):
        return denied
    if case.vote_of(side) is not None:
        if side == Side.MARKET:
            return Denied(
                "credit.back_office_vote_required",
                "The market vote is cast; the second vote must come from the back office, "
                "independent of the market (CR-2, MaRisk BTO 1.1 Tz. 2).",
            )
        return Denied(
            "credit.market_vote_required",
            "The back-office vote is cast; the market vote is still missing (CR-2).",
        )
    if side == Side.BACK_OFFICE and not case.assessment.back_office_vote:
        return Denied(
            "credit.vote_not_needed",
            f"This business is not risk-relevant ({case.assessment.relevance}); the market vote "
            "decides it alone (CR-1, CR-2).",
        )
    if side == Side.BACK_OFFICE and (denied := cooling_off(case.policy, facts.moves, ctx.today)):
        return denied
    level = _authority(case, actor)
    if isinstance(level, Denied):
        return level
    if denied := _rating(case, cmd, side):
        return denied
    voted = _vote_event(case, cmd, actor, side, level, _board_flags(actor, side))
    after = _apply(case, voted)
    market, bo = after.vote_of(Side.MARKET), after.vote_of(Side.BACK_OFFICE)
    if market is None or (case.assessment.back_office_vote and bo is None):
        return _accept(case, voted)
    decisions = {v.decision for v in (market, bo) if v is not None}
    if decisions == {Decision.APPROVE}:
        return _accept(case, voted, *_approved(after, actor, "both votes approve"))
    if decisions == {Decision.REJECT}:
        return _accept(case, voted, _outcome("rejected", actor, "the votes reject"))
    return _accept(case, voted, *_dissent(after, actor))


def _approved(case: CreditCase, actor: ActorFacts, why: str) -> tuple[Event, ...]:
    """Approved — unless CR-7 still needs every board member (large exposure, insider loan)."""
    assert case.assessment is not None
    if case.assessment.full_board and case.stage != Stage.FULL_BOARD:
        reasons = ", ".join(case.assessment.full_board)
        return (
            Event(
                "forwarded",
                actor.person,
                comment=f"{why}; every board member must approve ({reasons}; CR-7)",
                data={"stage": Stage.FULL_BOARD.value, "reasons": list(case.assessment.full_board)},
            ),
        )
    return (_outcome("approved", actor, why, case.binding_rating),)


def _outcome(kind: str, actor: ActorFacts, why: str, rating: str | None = None) -> Event:
    data = {"rating": rating} if rating else {}
    return Event(kind, actor.person, comment=why, data=data)


def _dissent(case: CreditCase, actor: ActorFacts) -> tuple[Event, ...]:
    """CR-4: differing votes are rejected, or escalated strictly above both voters."""
    assert case.assessment is not None
    policy = case.policy
    if policy.on_dissent == "reject":
        return (_outcome("rejected", actor, "the votes differ and the policy rejects (CR-4)"),)
    above = max(policy.index(v.level) for v in case.stage_votes(Stage.VOTES) if v.level)
    exposure, product = case.assessment.exposure, case.product
    target = next(
        lv for i, lv in enumerate(policy.levels) if i > above and lv.covers(exposure, product)
    )
    stage = {LevelKind.COMMITTEE: Stage.COMMITTEE, LevelKind.FULL_BOARD: Stage.FULL_BOARD}.get(
        target.kind, Stage.ESCALATION
    )
    return (
        Event(
            "escalated",
            actor.person,
            comment=f"the votes differ; escalated to {target.name} (CR-4)",
            data={"level": target.id, "stage": stage.value},
        ),
    )


def _decide(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    """CR-4/CR-6: an escalation decided by one person strictly above both voters."""
    if case.status != CreditStatus.ESCALATED or case.stage != Stage.ESCALATION:
        return _wrong_state(case, cmd.kind)
    if denied := _common(case, cmd, actor):
        return denied
    assert cmd.decision is not None
    if actor.person in case.voters:
        return Denied(
            "credit.already_voted",
            "You voted on this case; the escalation is decided by someone above both voters.",
        )
    side = _side(case, actor, facts, cmd.side)
    if isinstance(side, Denied):
        return side
    if side == Side.MARKET and not actor.board_member:
        return Denied(
            "credit.back_office_vote_required",
            "The back-office vote is the market-independent vote; a market vote at a higher "
            "level cannot replace it (CR-4, MaRisk BTO 1.1 Tz. 6).",
        )
    if side == Side.BACK_OFFICE and (denied := cooling_off(case.policy, facts.moves, ctx.today)):
        return denied
    level = _authority(case, actor)
    if isinstance(level, Denied):
        return level
    voters = [v.level for v in case.stage_votes(Stage.VOTES) if v.level]
    if level <= max(case.policy.index(lv) for lv in voters):
        return Denied(
            "authority.not_above_voters",
            f"The case is escalated to level {case.escalation_level}; it is decided only at a "
            f"level strictly above both voters ({', '.join(voters)}) (CR-4).",
        )
    if denied := _rating(case, cmd, side):
        return denied
    flags = _board_flags(actor, side)
    bo = case.vote_of(Side.BACK_OFFICE)
    if actor.board_member and bo is not None and cmd.decision != bo.decision:
        if not cmd.justification.strip():
            return Denied(
                "credit.justification_required",
                "You decide against the back-office vote: give a justification; the decision "
                "is highlighted in the risk report (CR-6).",
            )
        flags.add(Flag.DEVIATING)
    decided = _vote_event(case, cmd, actor, side, level, flags, kind="decided")
    after = _apply(case, decided)
    if cmd.decision == Decision.APPROVE:
        return _accept(case, decided, *_approved(after, actor, "approved on escalation"))
    return _accept(case, decided, _outcome("rejected", actor, "rejected on escalation"))


# -- collective decisions ------------------------------------------------------------------


def _committee_vote(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    """CR-5: one vote per member; decided as soon as the outcome can no longer change."""
    committee = case.policy.committee
    assert committee is not None
    if actor.person not in committee.members:
        return Denied(
            "credit.not_committee_member", f"Only members of the {committee.name} vote here."
        )
    if denied := _already(case, actor, None):
        return denied
    side = facts.sides.get(actor.person, Side.BOARD)
    if side == Side.BACK_OFFICE and (denied := cooling_off(case.policy, facts.moves, ctx.today)):
        return denied
    if denied := _rating(case, cmd, side):
        return denied
    level = _level_of(case.policy, actor)
    voted = _vote_event(case, cmd, actor, side, level, set())
    after = _apply(case, voted)
    return _accept(case, voted, *_committee_outcome(after, actor, facts, closing=False))


def _committee_outcome(
    case: CreditCase, actor: ActorFacts, facts: CreditFacts, *, closing: bool
) -> tuple[Event, ...]:
    """Approved: a majority and a back-office approval. The back office is never outvoted."""
    committee = case.policy.committee
    assert committee is not None
    votes = case.stage_votes(Stage.COMMITTEE)
    approve = [v for v in votes if v.decision == Decision.APPROVE]
    reject = len(votes) - len(approve)
    voted = {v.actor for v in votes}
    pending = [m for m in committee.members if m not in voted and m not in case.voters]
    bo_approves = any(v.side == Side.BACK_OFFICE for v in approve)
    bo_pending = any(facts.sides.get(m) == Side.BACK_OFFICE for m in pending)
    if closing:
        pending, bo_pending = [], False
    if len(approve) > reject + len(pending) and bo_approves:
        why = f"the committee approves ({len(approve)}:{reject}, with the back office; CR-5)"
        return _approved(case, actor, why)
    if len(approve) + len(pending) <= reject or not (bo_approves or bo_pending):
        why = f"the committee rejects ({len(approve)}:{reject}"
        why += ")" if bo_approves else "; no back-office approval; CR-5)"
        return (_outcome("rejected", actor, why),)
    return ()


def _close(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    """A member closes the committee vote; it needs the quorum with a back-office member."""
    if case.status.is_final or case.stage != Stage.COMMITTEE:
        return _wrong_state(case, cmd.kind)
    committee = case.policy.committee
    assert committee is not None
    if actor.person not in committee.members:
        return Denied(
            "credit.not_committee_member", f"Only members of the {committee.name} close its vote."
        )
    votes = case.stage_votes(Stage.COMMITTEE)
    if len(votes) < committee.quorum or not any(v.side == Side.BACK_OFFICE for v in votes):
        return Denied(
            "credit.quorum_not_met",
            f"The {committee.name} has {len(votes)} vote(s); it decides with at least "
            f"{committee.quorum}, one of them from the back office (CR-5).",
        )
    closed = Event("commented", actor.person, comment=cmd.comment.strip() or "vote closed")
    return _accept(case, closed, *_committee_outcome(case, actor, facts, closing=True))


def _board_vote(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    """CR-7: every active board member approves; one rejection rejects."""
    if not actor.board_member or actor.person not in facts.board:
        return Denied("step.not_eligible", "Only the members of the board vote here (CR-7).")
    if any(v.actor == actor.person for v in case.stage_votes(Stage.FULL_BOARD)):
        return Denied("credit.already_voted", "You already voted as a member of the board.")
    side = facts.sides.get(actor.person, Side.BOARD)
    if denied := _rating(case, cmd, side):
        return denied
    voted = _vote_event(case, cmd, actor, side, _level_of(case.policy, actor), set())
    after = _apply(case, voted)
    if cmd.decision == Decision.REJECT:
        why = f"{actor.name or actor.person} rejects; the board decides unanimously (CR-7)"
        return _accept(case, voted, _outcome("rejected", actor, why))
    approvers = {v.actor for v in after.stage_votes(Stage.FULL_BOARD)}
    if not facts.board <= approvers:
        return _accept(case, voted)
    if not any(v.side == Side.BACK_OFFICE for v in after.stage_votes(Stage.FULL_BOARD)):
        why = "no board member answering for the back office approved (CR-2, CR-5)"
        return _accept(case, voted, _outcome("rejected", actor, why))
    return _accept(case, voted, *_approved(after, actor, "every board member approves (CR-7)"))


# -- processing control (PROC-6) -----------------------------------------------------------


def check_processing_control(processor: str, voters: set[str], reviewer: str) -> Denied | None:
    """PROC-6: the reviewer was neither the processor nor a voter of the case."""
    if reviewer == processor or reviewer in voters:
        role = "processor" if reviewer == processor else "a voter"
        return Denied(
            "credit.control_involved",
            f"You were {role} of this case; the processing control is done by someone not "
            "involved in the decision (PROC-6, MaRisk BTO 1.2.3).",
        )
    return None


def _control(
    case: CreditCase, cmd: CreditCommand, actor: ActorFacts, ctx: Context, facts: CreditFacts
) -> Accepted | Denied:
    if case.status not in (CreditStatus.APPROVED, CreditStatus.REJECTED) or case.controlled_by:
        return _wrong_state(case, cmd.kind)
    if not _eligible(case, "control", actor):
        return Denied("step.not_eligible", "You do not do processing controls of credit cases.")
    if denied := check_processing_control(case.maker, case.voters, actor.person):
        return denied
    if denied := cooling_off(case.policy, facts.moves, ctx.today):
        return denied
    if not cmd.comment.strip():
        return Denied("credit.rationale_required", "Write down what the control found.")
    return _accept(case, Event("controlled", actor.person, comment=cmd.comment.strip()))


_HANDLERS = {
    CreditAction.SUBMIT: _submit,
    CreditAction.AMEND: _amend,
    CreditAction.WITHDRAW: _withdraw,
    CreditAction.COMMENT: _comment,
    CreditAction.VOTE: _vote,
    CreditAction.DECIDE: _decide,
    CreditAction.CLOSE: _close,
    CreditAction.CONTROL: _control,
}


# -- after the decision: problem loans, provisions, reviews, criteria ------------------------


class CareStage(StrEnum):
    """BTO 1.2.4/1.2.5: normal care, intensive care, or workout (problem loan)."""

    NORMAL = "normal"
    INTENSIVE_CARE = "intensive_care"
    WORKOUT = "workout"


def care_stage(criteria: ProblemLoansSpec, days_past_due: int, forborne: bool) -> CareStage:
    """PROC-2: the stage a credit's facts call for; workout wins over intensive care."""

    def meets(spec: CriteriaSpec) -> bool:
        return days_past_due >= spec.days_past_due or (spec.forborne and forborne)

    if meets(criteria.workout):
        return CareStage.WORKOUT
    if meets(criteria.intensive_care):
        return CareStage.INTENSIVE_CARE
    return CareStage.NORMAL


def check_case_lead(lead: ActorFacts) -> Denied | None:
    """PROC-2: intensive care and workout are led outside the market (BTO 1.2.5)."""
    if Line.MARKET in lead.lines or Line.TRADING in lead.lines or not lead.lines:
        return Denied(
            "credit.case_lead_market",
            f"{lead.name or lead.person} works in the market (or in no unit); intensive care "
            "and workout are led outside the market (PROC-2, MaRisk BTO 1.2.5).",
        )
    return None


def check_provision(policy: CreditPolicy, amount: Money, actor: ActorFacts) -> Denied | None:
    """PROC-3: significant provisions are proposed and approved only outside the market."""
    limit = policy.provision_significance_limit.to_domain()
    significant = amount.currency != limit.currency or amount.amount >= limit.amount
    if significant and Line.MARKET in actor.lines:
        return Denied(
            "credit.provision_market",
            f"A provision of {amount} reaches the significance limit {limit}; it is proposed "
            "and approved outside the market (PROC-3, MaRisk BTO 1.1 Tz. 7).",
        )
    return None


def check_criteria_editor(
    live: CreditPolicy | None, proposed: CreditPolicy | None, actor: ActorFacts
) -> Denied | None:
    """PROC-1: intensive-care and workout criteria and the rating scale change outside market."""

    def owned(policy: CreditPolicy | None) -> Any:
        return None if policy is None else (policy.problem_loans, policy.ratings)

    if owned(live) != owned(proposed) and Line.MARKET in actor.lines:
        return Denied(
            "credit.criteria_market",
            "The change touches the problem-loan criteria or the rating scale; these are set "
            "and changed only outside the market (PROC-1, MaRisk BTO 1.2.4, BTO 1.4).",
        )
    return None


def review_overdue(last_review: date, months: int, today: date) -> bool:
    """PROC-5: the counterparty risk is reassessed at least every ``months`` months."""
    return today > add_months(last_review, months)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
