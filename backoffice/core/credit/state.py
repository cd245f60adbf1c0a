"""A credit case as data: its commands, the facts it is decided on, its events and ``replay``.

The case is the fold of its events: ``started`` freezes the credit policy into the case,
``submitted`` fixes the assessment (``assess``: the group exposure after this credit and
risk relevance, CR-1; the level it needs, CR-3; why every board member must approve, CR-7),
votes and decisions are remembered with their side, level and rating (the binding rating,
PROC-4), and ``replay`` rebuilds the case from them. ``CreditFacts`` and ``Move`` carry what
the database knows (exposure, board, sides, moves for COOL-1) into ``decide``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from backoffice.core.cooling import Move
from backoffice.core.credit.policy import CreditPolicy, LevelKind
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Event
from backoffice.core.money import Money
from backoffice.core.payload import money_of, payload_hash
from backoffice.core.processes import ProcessSpec


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
    #: CR-6: why a board member decided against the back-office vote (the risk report's point)
    justification: str = ""


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
                justification=str(data.get("justification", "")),
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
