"""Research publication (#17): the analyst's position (RES-3, RES-4) wherever a note is
drafted, released or sent out, and the fact-check version sent to the issuer (RES-2).

The four-eyes release itself is the ``research-publication`` process (RES-1); its effect
(``effects.PublishResearch``) and the walls' write guard ask ``check_research`` here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core.errors import Denied, DomainError
from backoffice.core.research import (
    CrossingSpan,
    Underwriting,
    check_fact_check,
    check_research_position,
    check_underwriting_quiet,
    fact_check_version,
)
from backoffice.walls.models import DealProject, FactCheck, WallCrossing
from backoffice.walls.queries import get_walls
from backoffice.walls.services import get_issuer

__all__ = [
    "PUBLISH_EFFECT",
    "check_research",
    "is_research_process",
    "do_send_fact_check",
    "get_fact_checks",
]

#: the effect of the processes that publish research (the demo's ``research-publication``)
PUBLISH_EFFECT = "walls.publish_research"


def is_research_process(process_key: str) -> bool:
    from backoffice.cases.queries import live_processes  # cases build on walls' guards

    process = live_processes().get(process_key)
    return process is not None and process.spec.effect == PUBLISH_EFFECT


def _spans(username: str, issuer: str) -> list[CrossingSpan]:
    """Every crossing of the person for the issuer, ended or not (RES-3 looks past the end)."""
    rows = WallCrossing.objects.filter(
        user__username=username, project__issuer__key=issuer
    ).values_list("valid_from", "valid_to", "ended_at")
    return [
        CrossingSpan(issuer, start, min(end, ended) if ended else end) for start, end, ended in rows
    ]


def _underwritings(issuer: str) -> list[Underwriting]:
    rows = DealProject.objects.filter(
        issuer__key=issuer, mandate="underwriting", announced_at__isnull=False
    ).values_list("announced_at", "closed_at")
    return [Underwriting(issuer, announced, closed) for announced, closed in rows]


def check_research(person: str, issuer: str, *, maker: str = "") -> Denied | None:
    """RES-3 for the person acting and for the note's author, then RES-4.

    The author's position is told to someone else only as "the author may not" (#13: whose
    crossing for which deal is not theirs to learn).
    """
    walls = get_walls()
    at = timezone.now()
    refused = check_research_position(issuer, _spans(person, issuer), at, walls.quiet)
    if refused is None and maker and maker != person:
        refused = check_research_position(
            issuer, _spans(maker, issuer), at, walls.quiet, own=False, name=maker
        )
    return refused or check_underwriting_quiet(issuer, _underwritings(issuer), at, walls.quiet)


def access_research_draft(actor: Actor, case_id: int) -> Any:
    """A research case the actor may read (the wall decides); any other case is not one."""
    from backoffice.cases.queries import access_case_by_id  # cases build on walls' guards

    case = access_case_by_id(actor, case_id)
    if case.process.spec.effect != PUBLISH_EFFECT:
        raise DomainError("research.not_found", f"There is no research draft {case_id}.")
    return case


def do_send_fact_check(actor: Actor, case_id: int) -> FactCheck:
    """RES-2: send the issuer the version of a draft without rating, price target and
    valuation, produced here; nothing else goes out. Only a research analyst who may read
    the draft sends it, and only while it is not published; RES-3 and RES-4 apply."""
    case = access_research_draft(actor, case_id)
    if case.status in ("released", "rejected", "withdrawn"):
        raise DomainError("research.not_found", f"There is no research draft {case_id}.")
    if "research.draft" not in actor.permissions:
        _refuse(actor, case.pk, Denied("wall.forbidden", "Only research sends fact checks."))
    payload = dict(case.payload)
    issuer = str(payload.get("issuer") or "")
    if refused := check_research(actor.person, issuer, maker=case.maker.username):
        _refuse(actor, case.pk, refused)
    version = fact_check_version(payload)
    if refused := check_fact_check(payload, version):
        _refuse(actor, case.pk, refused)
    with transaction.atomic():
        sent = FactCheck.objects.create(
            case=case,
            issuer=get_issuer(issuer),
            headline=version["headline"][:200],
            body=version["summary"],
            sent_by=actor.person,
            sent_at=timezone.now(),
        )
        record(
            "research.fact_check.sent",
            actor=actor.person,
            object_type="case",
            object_id=case.pk,
            after={"issuer": issuer, "fact_check": sent.pk, "fields": sorted(version)},
            reason="RES-2: the version without rating, price target and valuation",
        )
    return sent


def _refuse(actor: Actor, case_id: int, denied: Denied) -> None:
    with transaction.atomic():
        record(
            "research.denied",
            actor=actor.person,
            object_type="case",
            object_id=case_id,
            after={"code": denied.code, "message": denied.message},
        )
    raise DomainError.from_denied(denied)


def get_fact_checks(case_id: int) -> QuerySet[FactCheck]:
    return FactCheck.objects.filter(case_id=case_id).select_related("issuer")


#: the research drafts page, newest first
DRAFT_ORDER = ("-pk",)


def research_drafts(actor: Actor) -> QuerySet[Any]:
    """Research drafts the actor may see (the wall decides), with their last fact check.

    Only research works on drafts here; anyone else is refused (``wall.forbidden``)."""
    from django.db.models import Count, Max

    from backoffice.audit.services import do_refuse
    from backoffice.cases.queries import visible_cases  # cases build on walls' guards

    if "research.draft" not in actor.permissions:
        do_refuse(
            "wall.forbidden",
            "Only research works on research drafts.",
            action="walls.denied",
            user=actor.user,
            object_type="walls",
            object_id="research drafts",
        )
    return (
        visible_cases(actor)
        .filter(process__definition__effect=PUBLISH_EFFECT, status__in=("draft", "submitted"))
        .select_related("maker__profile")
        .annotate(sent=Count("fact_checks"), last_sent=Max("fact_checks__sent_at"))
    )
