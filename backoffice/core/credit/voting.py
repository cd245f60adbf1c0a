"""``decide``: a command on a credit case, accepted with its events or denied with a code.

The draft's life (start, submit, amend, withdraw, comment), then the votes: the market vote
and the back-office vote by two people, the back office's only when the business is
risk-relevant or the policy asks for it (CR-1, CR-2); a vote counts only at a level covering
the exposure and the product (CR-3); differing votes are rejected or escalated strictly above
both voters, and the back-office vote is never replaced by a market vote (CR-4); the
committee decides by majority with a back-office approval and a quorum with a back-office
member (CR-5); a board member deciding against the back-office vote justifies it and is
flagged, as is any vote of the back office's board member (CR-6); large exposures and
insider loans need every board member (CR-7). Nobody votes on both sides (ORG-3), the maker
never votes, a move out of the market bars controls for a while (COOL-1), and the
processing control is done by someone not involved (PROC-6).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from backoffice.core.actors import ActorFacts
from backoffice.core.cooling import Move
from backoffice.core.cooling import cooling_off as cooling_rule
from backoffice.core.credit.policy import CreditPolicy, LevelKind
from backoffice.core.credit.state import (
    CreditAction,
    CreditCase,
    CreditCommand,
    CreditFacts,
    CreditStatus,
    Decision,
    Flag,
    Side,
    Stage,
    _apply,
    assess,
    replay,
)
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Accepted, Context, Event, who_matches
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.core.payload import payload_hash, validated_payload
from backoffice.core.processes import ProcessSpec


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
            f"{process.name} can be started only by {process.starter.describe(context.words)}.",
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


def level_of(policy: CreditPolicy, actor: ActorFacts) -> int | None:
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
    index = level_of(case.policy, actor)
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
    """COOL-1 for a credit case: the one rule of ``core.cooling``, in credit's words."""
    return cooling_rule(policy.cooling_off, moves, today, former="borrowers of your former unit")


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
    level = level_of(case.policy, actor)
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
    voted = _vote_event(case, cmd, actor, side, level_of(case.policy, actor), set())
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
