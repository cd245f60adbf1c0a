"""The ``credit`` engine for the cases services: gathers the facts, ``core.credit`` decides.

Registered in ``CreditConfig.ready``; the cases services call it for every process whose
spec says ``engine: credit`` (see ``cases.engines``). What it reads from the database:
the live credit policy (at start), the borrower group's exposure (at submit), the board
and the sides of board and committee members, and the actor's recent moves out of the
market with whether they handled this borrower group before (COOL-1).

The exposure is the only sum over other cases, and only a submission reads it (the
assessment is fixed then; votes, CR-4 escalation and CR-7 read the recorded assessment).
#13: a submission locks the borrower group's row before it sums (``lock``), so credits of
one group submitted at the same moment are assessed one after the other, each seeing the
ones committed before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from backoffice.audit.services import record
from backoffice.base.context import cached
from backoffice.cases.models import Case, CaseEvent
from backoffice.core import credit as core
from backoffice.core.actors import ActorFacts
from backoffice.core.credit import (
    CreditAction,
    CreditCase,
    CreditCommand,
    CreditFacts,
    CreditPolicy,
    Decision,
    Flag,
    Move,
    Side,
    Stage,
    add_months,
)
from backoffice.core.credit.voting import level_of
from backoffice.core.errors import Denied, DomainError
from backoffice.core.four_eyes import Accepted, Context, Event, who_matches
from backoffice.core.money import Money
from backoffice.core.processes import ProcessSpec
from backoffice.credit.models import (
    Borrower,
    BorrowerGroup,
    Credit,
    CreditDecision,
    CreditPolicyRecord,
    Relationship,
)
from backoffice.org.cooling import moves_out
from backoffice.org.models import Membership, Responsibility

__all__ = ["CreditEngine", "live_credit_policy", "group_exposure", "sides_of"]

OPEN = ("in_voting", "escalated")


def _within_authority(actor: Any) -> Q:
    """The credits in voting the actor's own level covers: the group exposure up to its
    limit, in its currency, of its products (CR-3, ``voting._authority``). Votes carry the
    voter's own level, so acting for someone adds none (``dry_run``)."""
    policy = live_credit_policy()
    index = level_of(policy, actor.facts) if policy is not None else None
    if policy is None or index is None:
        return Q(pk__in=[])
    level = policy.levels[index]
    within = Q(credit_decision__exposure__isnull=False)
    if level.limit is not None:
        limit = level.limit.to_domain()
        within &= Q(
            credit_decision__exposure__lte=limit.amount,
            credit_decision__currency=limit.currency,
        )
    if level.products:
        within &= Q(credit_decision__product__in=level.products)
    return within


def live_credit_policy() -> CreditPolicy | None:
    row = CreditPolicyRecord.objects.order_by("-number").first()
    if row is None or row.definition is None:
        return None
    return CreditPolicy.model_validate(row.definition)


def group_exposure(group_id: int, currency: str, *, excluding_case: int | None = None) -> Money:
    """CR-1: the group's opening balance, its approved credits and the credits in voting.

    Credits still being voted on count as if approved, so an exposure split into parallel
    applications cannot slip under a level or the risk-relevance threshold — provided the
    caller holds the group's lock (``CreditEngine.lock``) while it sums and records.
    """
    group = BorrowerGroup.objects.get(pk=group_id)
    opening = group.opening_exposure if group.currency == currency else Decimal(0)
    approved = Credit.objects.filter(group_id=group_id, currency=currency).aggregate(
        total=Sum("amount")
    )["total"]
    pending = (
        CreditDecision.objects.filter(group_id=group_id, currency=currency, status__in=OPEN)
        .exclude(case_id=excluding_case or 0)
        .aggregate(total=Sum("requested"))["total"]
    )
    return Money(opening + (approved or 0) + (pending or 0), currency)


def _active(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def sides_of(people: Sequence[str], day: date) -> dict[str, Side]:
    """The side each person votes for: a board member's by the lines they answer for."""
    sides: dict[str, Side] = {}
    duties = Responsibility.objects.filter(_active(day), user__username__in=people)
    for duty in duties.select_related("user", "unit"):
        line = duty.unit.line
        side = {"market": Side.MARKET, "back_office": Side.BACK_OFFICE}.get(line)
        if side is not None:
            sides[duty.user.username] = side
        else:
            sides.setdefault(duty.user.username, Side.BOARD)
    members = Membership.objects.filter(_active(day), user__username__in=people)
    for m in members.select_related("user", "unit"):
        if m.unit.parent_id is None:
            sides.setdefault(m.user.username, Side.BOARD)
        elif m.unit.line in ("market", "back_office"):
            sides.setdefault(m.user.username, Side(m.unit.line))
    return sides


def _board(day: date) -> frozenset[str]:
    """The management board on ``day``, read once per request (every credit case asks)."""

    def read() -> frozenset[str]:
        rows = Membership.objects.filter(
            _active(day), unit__parent__isnull=True, unit__line="management"
        )
        return frozenset(rows.values_list("user__username", flat=True))

    return cached(f"credit:board:{day}", read)


def _moves(person: str, borrower: Borrower, policy: CreditPolicy, day: date) -> tuple[Move, ...]:
    """COOL-1: the person's moves out of market or trading (``org.cooling``), judged by
    whether they handled this borrower group and whether it belongs to the unit they left."""
    return moves_out(
        person,
        policy.cooling_off,
        day,
        handled=lambda left_on: _handled(person, borrower, left_on),
        in_former=lambda units: borrower.unit_id in units,
    )


def _handled(person: str, borrower: Borrower, before: date) -> bool:
    """Business of the borrower's group the person looked after, made or voted on before."""
    group = borrower.group_id
    if Relationship.objects.filter(
        user__username=person, borrower__group_id=group, valid_from__lt=before
    ).exists():
        return True
    cases = CreditDecision.objects.filter(group_id=group).values("case_id")
    return CaseEvent.objects.filter(
        case_id__in=cases,
        actor=person,
        kind__in=("started", "voted", "decided"),
        at__date__lt=before,
    ).exists()


def _borrower(payload: Any) -> Borrower | None:
    """The borrower a payload names; a page of cases reads theirs at once (``prefetch``)."""
    number = str((payload or {}).get("borrower") or "")
    return cached(
        f"credit:borrower:{number}",
        lambda: Borrower.objects.select_related("group").filter(number=number).first(),
    )


class CreditEngine:
    """``core.credit`` behind the ``cases.engines.Engine`` protocol."""

    open_statuses = frozenset(OPEN)
    acting_actions = frozenset({"vote", "decide"})

    def replay(self, spec: ProcessSpec, events: Sequence[Event]) -> CreditCase:
        return core.replay(spec, list(events))

    def decide(
        self,
        row: Case | None,
        current: CreditCase | None,
        command: Any,
        actor: ActorFacts,
        context: Context,
        spec: ProcessSpec,
    ) -> Accepted | Denied:
        if current is None:
            command = CreditCommand(
                CreditAction.START, comment=command.comment, payload=command.payload
            )
        cmd = core.as_credit_command(command)
        if isinstance(cmd, Denied):
            return cmd
        payload = cmd.payload if cmd.kind in (CreditAction.START, CreditAction.AMEND) else None
        borrower = _borrower(payload if payload is not None else current and current.payload)
        if borrower is None and cmd.kind in (CreditAction.START, CreditAction.AMEND):
            return Denied(
                "credit.unknown_borrower",
                f"There is no borrower {(payload or {}).get('borrower')!r} in the register.",
            )
        facts = self._memo_facts(row, current, cmd, actor, borrower, context.today)
        if current is None and facts.policy is None:
            return Denied("process.not_startable", "The live policy has no credit section.")
        return core.decide(current, cmd, actor, context, facts, spec)

    def _memo_facts(
        self,
        row: Case | None,
        current: CreditCase | None,
        cmd: CreditCommand,
        actor: ActorFacts,
        borrower: Borrower | None,
        day: date,
    ) -> CreditFacts:
        """Facts once per case row, actor and day: a case page dry-runs eight commands."""
        if row is None:
            return self._facts(row, current, cmd, actor, borrower, day)
        memo: dict[tuple[str, date, bool], CreditFacts]
        memo = row.__dict__.setdefault("_credit_facts", {})
        key = (actor.person, day, cmd.kind == CreditAction.SUBMIT)
        if key not in memo:
            memo[key] = self._facts(row, current, cmd, actor, borrower, day)
        return memo[key]

    def _facts(
        self,
        row: Case | None,
        current: CreditCase | None,
        cmd: CreditCommand,
        actor: ActorFacts,
        borrower: Borrower | None,
        day: date,
    ) -> CreditFacts:
        if current is None:
            return CreditFacts(policy=live_credit_policy())
        policy = current.policy
        existing = None
        if cmd.kind == CreditAction.SUBMIT and borrower is not None and current.requested:
            existing = group_exposure(
                borrower.group_id,
                current.requested.currency,
                excluding_case=row.pk if row is not None else None,
            )
        board = _board(day)
        committee = policy.committee.members if policy.committee else []
        people = tuple(sorted({actor.person, *board, *committee}))
        moves = _moves(actor.person, borrower, policy, day) if borrower is not None else ()
        return CreditFacts(
            existing_exposure=existing,
            insider=bool(borrower and borrower.insider),
            board=board,
            sides=cached(f"credit:sides:{day}:{people}", lambda: sides_of(people, day)),
            moves=moves,
        )

    def lock(self, row: Case, current: CreditCase, command: Any) -> None:
        """#13: a submission locks its borrower group until it commits (SQLite: every write
        transaction is IMMEDIATE already), so a concurrent submission for the same group
        waits and then sums this one's pending credit too."""
        if command.kind != CreditAction.SUBMIT:
            return
        borrower = _borrower(current.payload)
        if borrower is not None:
            list(BorrowerGroup.objects.select_for_update().filter(pk=borrower.group_id))

    def dry_run(self, current: CreditCase, principal: str | None) -> list[tuple[str, Any]]:
        """What the case page offers; votes are tried as approvals with a valid grade."""
        if principal:
            return []  # votes carry the voter's own level: nobody votes for someone else
        note = "(dry run)"
        grade = current.policy.ratings[0]
        commands = [
            CreditCommand(CreditAction.SUBMIT, note),
            CreditCommand(CreditAction.AMEND, note, payload=current.payload),
            CreditCommand(CreditAction.VOTE, note, decision=Decision.APPROVE, rating=grade),
            CreditCommand(
                CreditAction.DECIDE,
                note,
                decision=Decision.APPROVE,
                rating=grade,
                justification=note,
            ),
            CreditCommand(CreditAction.CLOSE, note),
            CreditCommand(CreditAction.CONTROL, note),
            CreditCommand(CreditAction.WITHDRAW, note),
            CreditCommand(CreditAction.COMMENT, note),
        ]
        return [(c.kind.value, c) for c in commands]

    def page_context(self, row: Case, actor: Any, actions: list[Any]) -> dict[str, Any]:
        from backoffice.credit.present import credit_page  # the page's part, not the rules'

        return credit_page(actor, row, actions)

    def command_from_form(self, data: Mapping[str, Any]) -> CreditCommand:
        if data["action"] not in {a.value for a in CreditAction}:
            message = f"A credit case has no action {data['action']!r}."
            raise DomainError("case.wrong_state", message)
        return CreditCommand(
            CreditAction(data["action"]),
            comment=data["comment"],
            decision=Decision(data["decision"]) if data["decision"] else None,
            rating=data["rating"] or None,
            justification=data["justification"],
            seen_payload_hash=data["payload_hash"] or None,
        )

    def inbox_filter(self, process: Any, actor: Any) -> Q | None:
        """Voters see the credits in voting within their authority level (CR-3) they have
        not voted on, the back office only those that are risk-relevant (what needs its
        vote); board members those escalated, in committee or before the full board.
        The badge counts these, so a credit its voter's level does not cover is left out
        here, not only when the inbox tries it (#19: the badge said 1, the list showed 0)."""
        spec: ProcessSpec = process.spec
        steps = {step.id: step for step in spec.steps}

        def takes_part(*names: str) -> bool:
            return any(n in steps and who_matches(steps[n].who, actor.facts) for n in names)

        waiting = Q(pk__in=[])
        if takes_part("market", "back_office"):
            votes = Q(current_step=Stage.VOTES.value) & _within_authority(actor)
            if not takes_part("market"):  # the back office votes on risk-relevant business
                votes &= Q(credit_decision__risk_relevant=True)  # only (CR-1, CR-2)
            waiting |= votes
        if takes_part("board"):
            stages = [Stage.ESCALATION.value, Stage.COMMITTEE.value, Stage.FULL_BOARD.value]
            waiting |= Q(current_step__in=stages)
        voted = CaseEvent.objects.filter(
            case_id=OuterRef("pk"),
            actor=actor.person,
            kind__in=("voted", "decided"),
            step=OuterRef("current_step"),
        )
        return Q(process_id=process.pk) & waiting & Q(~Exists(voted))

    def prefetch(self, rows: Sequence[Case]) -> None:
        numbers = {str(row.payload.get("borrower") or "") for row in rows}
        found = {
            b.number: b for b in Borrower.objects.select_related("group").filter(number__in=numbers)
        }
        for number in numbers:
            cached(f"credit:borrower:{number}", partial(found.get, number))

    def after_persist(self, row: Case, result: Accepted, actor: str) -> None:
        """Keep the register's projection, and book the credit when the case is approved."""
        case: CreditCase = result.case  # type: ignore[assignment]
        borrower = _borrower(case.payload)
        requested = case.requested
        assert borrower is not None and requested is not None
        assessment = case.assessment
        decided = case.status in (core.CreditStatus.APPROVED, core.CreditStatus.REJECTED)
        projection, _ = CreditDecision.objects.update_or_create(
            case=row,
            defaults={
                "borrower": borrower,
                "group_id": borrower.group_id,
                "product": case.product,
                "requested": requested.amount,
                "currency": requested.currency,
                "existing_exposure": assessment.existing.amount if assessment else None,
                "exposure": assessment.exposure.amount if assessment else None,
                "risk_relevant": assessment.risk_relevant if assessment else None,
                "required_level": assessment.required_level if assessment else "",
                "escalation_level": case.escalation_level or "",
                "full_board": list(assessment.full_board) if assessment else [],
                "status": case.status.value,
                "votes": [
                    {
                        "actor": v.actor,
                        "stage": v.stage.value,
                        "side": v.side.value,
                        "level": v.level,
                        "decision": v.decision.value,
                        "rating": v.rating,
                        "kind": "decision" if v.decided else "vote",
                        "justification": v.justification,
                    }
                    for v in case.votes
                ],
                "rating": case.binding_rating or "",
                "deviating_decision": Flag.DEVIATING in case.flags,
                "back_office_board_decision": Flag.BACK_OFFICE_BOARD in case.flags,
            },
        )
        if decided and projection.decided_at is None:
            projection.decided_at = timezone.now()
            projection.save(update_fields=["decided_at", "last_updated"])
        if any(e.kind == "approved" for e in result.events):
            self._book(projection, case, actor)

    def _book(self, projection: CreditDecision, case: CreditCase, actor: str) -> None:
        today = timezone.localdate()
        credit = Credit.objects.create(
            decision=projection,
            borrower=projection.borrower,
            group=projection.group,
            product=projection.product,
            amount=projection.requested,
            currency=projection.currency,
            rating=projection.rating,
            approved_on=today,
            last_review=today,
            review_due=add_months(today, case.policy.review_months),
        )
        record(
            "credit.booked",
            actor=actor,
            object_type="credit",
            object_id=credit.pk,
            after={
                "case": projection.case_id,
                "borrower": projection.borrower.number,
                "amount": f"{credit.amount:.2f} {credit.currency}",
                "rating": credit.rating,
                "review_due": credit.review_due,
            },
            reason=f"approved credit case {projection.case_id}",
        )
