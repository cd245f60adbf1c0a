"""The case as people and clients see it: one builder for the API and the HTML pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, gettext_lazy, ngettext

from backoffice.base.actor import Actor
from backoffice.base.effects import get_effect
from backoffice.cases.models import Case, Process
from backoffice.cases.queries import ActionOption, available_actions, domain_case
from backoffice.cases.schemas import (
    ActionOut,
    AggregateOut,
    ApprovalsOut,
    CaseOut,
    CaseSummaryOut,
    EventOut,
    FieldOut,
    ProcessOut,
    StepOut,
)
from backoffice.core.actors import ActorFacts
from backoffice.core.four_eyes import Case as DomainCase
from backoffice.core.four_eyes import who_matches
from backoffice.core.labels import text_of
from backoffice.core.processes import WhoSpec
from backoffice.org.queries import role_permissions, who_words

__all__ = [
    "CREDIT_STAGE_NAMES",
    "who_in_words",
    "process_out",
    "summary_out",
    "case_out",
    "why_me",
    "inbox_row",
]


def process_out(process: Process) -> ProcessOut:
    spec = process.spec
    return ProcessOut(
        key=process.key,
        name=spec.name,
        description=spec.description,
        starter=spec.starter.describe(),
        payload=[
            FieldOut(
                name=f.name,
                type=f.type.value,
                label=f.title,
                help=f.help,
                required=f.required,
                choices=f.choices,
            )
            for f in spec.payload
        ],
        steps=[
            StepOut(
                id=s.id,
                name=s.name,
                action=s.action.value,
                who=s.who.describe(),
                authority=s.authority,
                tiers=[t.model_dump() for t in s.tiers],
            )
            for s in spec.steps
        ],
    )


def summary_out(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=case.pk,
        process=case.process.key,
        title=case.title,
        status=case.status,
        step=case.current_step or None,
        maker=case.maker.username,
        amount=case.amount,
        currency=case.currency,
        created=case.created,
        last_updated=case.last_updated,
    )


def _within(window: str) -> str:
    count = int(window[:-1])
    if window.endswith("h"):
        return ngettext("within %(n)s hour", "within %(n)s hours", count) % {"n": count}
    return ngettext("within %(n)s day", "within %(n)s days", count) % {"n": count}


def aggregate_out(current: DomainCase) -> AggregateOut | None:
    """#13: "with 1 other case for creditor ACME within 1 day: 19,998.00 EUR" — the sum
    that picked the tier (None when no related case was found)."""
    aggregate, total = current.aggregate, current.aggregate_total
    if aggregate is None or total is None:
        return None
    field = current.process.field(aggregate.by)
    count = len(aggregate.others)
    note = ngettext(
        "with %(n)s other case for %(field)s %(value)s %(window)s: %(total)s",
        "with %(n)s other cases for %(field)s %(value)s %(window)s: %(total)s",
        count,
    ) % {
        "n": count,
        "field": (field.title if field else aggregate.by).lower(),
        "value": aggregate.value,
        "window": _within(aggregate.window),
        "total": f"{number_format(total.amount, 2, force_grouping=True)} {total.currency}",
    }
    return AggregateOut(
        by=aggregate.by,
        value=aggregate.value,
        window=aggregate.window,
        others=[case for case, _amount in aggregate.others],
        total=Decimal(total.amount),
        currency=total.currency,
        note=note,
    )


def case_out(case: Case, actor: Actor, actions: list[ActionOption] | None = None) -> CaseOut:
    """The full case: payload, approvals so far, timeline, and what the caller may do now."""
    current = domain_case(case)
    approvals = None
    step = current.current_step
    if step is not None:
        tier = current.tier(step)
        given = current.approvals(step.id)
        approvals = ApprovalsOut(
            step=step.id,
            step_name=step.name,
            tier=tier.label,
            needed=tier.approvals,
            board_needed=tier.board,
            given=len(given),
            board_given=sum(a.board for a in given),
            aggregate=aggregate_out(current) if isinstance(current, DomainCase) else None,
        )
    effect = get_effect(case.spec.effect)
    counting = current if isinstance(current, DomainCase) else None
    timeline = [
        EventOut(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            actor=e.actor,
            on_behalf_of=e.on_behalf_of or None,
            step=e.step or None,
            payload_hash=e.payload_hash or None,
            comment=e.comment,
            board=e.board,
            tier=e.tier,
            covers_current_payload=bool(e.payload_hash) and e.payload_hash == case.payload_hash,
            counts=counting is not None and counting.counts(index),
            denial=e.data if e.kind == "denied" else None,
            audit_seq=e.audit_seq,
        )
        for index, e in enumerate(case.events.all())
    ]
    return CaseOut(
        **summary_out(case).model_dump(),
        payload=case.payload,
        payload_hash=case.payload_hash,
        version=case.version,
        approvals=approvals,
        # what a release would change; a closed case changes nothing any more
        preview=effect.preview(case.payload) if effect and not current.status.is_final else None,
        timeline=timeline,
        actions=[
            ActionOut(**vars(o))
            for o in (available_actions(actor, case) if actions is None else actions)
        ],
    )


#: #19: what a credit case waits for, by its stage (the inbox's "why me" for votes)
CREDIT_STAGE_NAMES = {
    "votes": gettext_lazy("Credit vote"),
    "escalation": gettext_lazy("Escalation decision"),
    "committee": gettext_lazy("Credit committee vote"),
    "full_board": gettext_lazy("Full board vote"),
}


def why_me(facts: ActorFacts, who: WhoSpec) -> str:
    """#19: what makes this person one who may act, in the policy's names ("Payment
    releaser, Board member"): the roles that grant the step's permissions or are named."""
    words, grants, language = who_words(), role_permissions(), get_language()
    wanted = set(who.permissions)
    basis = [
        text_of(words.get(f"role:{role}", role), language)
        for role in sorted(facts.roles)
        if role in who.roles or grants.get(role, frozenset()) & wanted
    ]
    basis += [
        text_of(words.get(f"unit:{u}", u), language) for u in sorted(facts.units) if u in who.units
    ]
    basis += [gettext(str(line.label)) for line in who.lines if line in facts.lines]
    return ", ".join(dict.fromkeys(basis))


def who_in_words(who: WhoSpec) -> str:
    """#19: ``WhoSpec.describe`` in the reader's language: the policy's role and unit names
    (translated where the policy translates them) joined by the catalogue's words."""
    words, language = who_words(), get_language()

    def named(kind: str, ids: list[str]) -> str:
        return gettext(" or ").join(text_of(words.get(f"{kind}:{i}", i), language) for i in ids)

    parts = []
    if who.lines:
        lines = gettext(" or ").join(gettext(str(line.label)) for line in who.lines)
        parts.append(gettext("the %(lines)s line") % {"lines": lines})
    if who.roles:
        parts.append(named("role", who.roles))
    if who.units:
        parts.append(gettext("members of %(units)s") % {"units": named("unit", who.units)})
    if who.permissions:
        parts.append(named("permission", who.permissions))
    return gettext(" and ").join(parts) or gettext("anyone")


def inbox_row(case: Case, facts: ActorFacts) -> dict[str, Any]:
    """A list row with why it is there: the step, who acts on it (in words), why me, the
    amount tier; a credit case by its stage and the votes the person may cast."""
    current = domain_case(case)
    age = (timezone.now() - case.created).days
    stage = getattr(current, "stage", None)
    if stage is not None:  # a credit case: votes, not four-eyes steps
        voting = [s for s in case.spec.steps if s.id != "control" and who_matches(s.who, facts)]
        reasons = dict.fromkeys(why_me(facts, s.who) for s in voting)
        return {
            "case": case,
            "step": CREDIT_STAGE_NAMES.get(stage.value, stage.value),
            "who": "",
            "why": ", ".join(r for r in reasons if r),
            "tier": "",
            "approvals": None,
            "age_days": age,
        }
    step = current.current_step
    return {
        "case": case,
        "step": step.name if step else "",
        "who": who_in_words(step.who) if step else "",
        "why": why_me(facts, step.who) if step else "",
        "tier": current.tier(step).label if step else "",
        "approvals": (len(current.approvals(step.id)), current.tier(step).approvals)
        if step
        else None,
        "age_days": age,
    }
