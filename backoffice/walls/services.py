"""Every write of the Chinese walls, and the one check every read of walled data goes through.

``access_issuer_data`` is that check (CW-1, CW-2, BN-1): it decides with the pure rules in
``core.walls`` and, in one transaction, notes the first confidential read of an issuer in
the person's history or records the refusal in the audit trail. The person's row is locked
meanwhile, so two reads at once cannot put two competitors into one history.

Compliance's actions (``walls.manage``) are single ``do_*`` services, each one transaction
with its audit events. Crossings and deal projects come from released cases (``effects``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from backoffice.access.queries import get_actor_facts
from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied, DomainError
from backoffice.core.walls import (
    Datum,
    Kind,
    Project,
    ReadAllowed,
    check_crossing_position,
    check_crossing_request,
    check_read,
    check_write,
    crossing_period,
    may_know_project,
    position_refusal_told,
)
from backoffice.walls.models import (
    AccessRecord,
    DealProject,
    Issuer,
    IssuerDocument,
    ListEntry,
    ProjectMember,
    WallCrossing,
)
from backoffice.walls.queries import access_walls_admin, get_reader, get_walls

__all__ = [
    "access_issuer_data",
    "check_issuer_access",
    "access_document_by_id",
    "do_create_document",
    "do_open_project",
    "do_add_member",
    "do_remove_member",
    "do_announce_project",
    "do_close_project",
    "do_list_issuer",
    "do_delist",
    "check_new_crossing",
    "do_start_crossing",
    "do_end_crossing",
    "do_expire_crossings",
    "do_reset_history",
    "get_issuer",
    "get_project",
    "project_key",
]

User = get_user_model()


def get_issuer(key: str) -> Issuer:
    issuer = Issuer.objects.filter(key=key, retired_at__isnull=True).first()
    if issuer is None:
        raise DomainError("wall.unknown_issuer", f"There is no issuer {key!r}.")
    return issuer


def get_project(key: str) -> DealProject:
    project = DealProject.objects.select_related("issuer").filter(key=key).first()
    if project is None:
        raise DomainError("wall.unknown_project", f"There is no deal project {key!r}.")
    return project


def _person(username: str) -> Any:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise DomainError("wall.invalid", f"There is no active person {username!r}.")
    return user


def _reason(reason: str) -> str:
    if not reason.strip():
        raise DomainError("wall.invalid", "Say why: the lists and crossings are on record.")
    return reason.strip()


def _lock_person(user: Any) -> None:
    """Serialise one person's checked reads (SQLite: every write transaction already is)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


#: the process that lifts a restriction (four eyes)
LIFT_PROCESS = "restricted-list-lift"


# -- the one check ------------------------------------------------------------------------


def check_issuer_access(
    actor: Actor, datum: Datum, *, about: str, note: bool = True, write: bool = False
) -> ReadAllowed | Denied:
    """Decide a read (or, with ``write``, a write) of walled data in the caller's transaction.

    An allowed first read of an issuer's confidential data is noted in the person's
    Brewer–Nash history with its audit event (BN-1: it decides their side in the class).
    A refusal is returned; recording it is the caller's (a read, a case start, …).
    """
    walls = get_walls()
    at = timezone.now()
    _lock_person(actor.user)  # the history is read again under the lock, not the actor's
    reader = get_reader(actor.user, walls, at, actor.facts)
    decision = (check_write if write else check_read)(walls, reader, datum, at)
    if isinstance(decision, ReadAllowed) and note and decision.records:
        issuer = get_issuer(datum.issuer)
        AccessRecord.objects.create(user=actor.user, issuer=issuer, first_at=at, first_object=about)
        actor.forget()  # the wall position changed
        record(
            "walls.history.recorded",
            actor=actor.person,
            object_type="person",
            object_id=actor.person,
            after={
                "issuer": issuer.key,
                "conflict_class": walls.classes.get(issuer.key),
                "first_object": about,
                "via": decision.via,
            },
            reason="BN-1: first read of this issuer's confidential data",
        )
    return decision


def access_issuer_data(actor: Actor, datum: Datum, *, about: str, note: bool = True) -> ReadAllowed:
    """The single check every read of walled data goes through (CW-1, CW-2, BN-1).

    ``about`` names what is read (``case:42``, ``document:7``). A refused read raises
    ``DomainError`` (``wall.not_inside``, ``wall.conflict``) after its audit event
    (``walls.access_denied``) has committed; ``note=False`` checks without adding to the
    history (a read that is not going to happen).
    """
    with transaction.atomic():
        decision = check_issuer_access(actor, datum, about=about, note=note)
        if isinstance(decision, Denied):
            _record_refusal(actor, datum, decision, about)
    if isinstance(decision, Denied):
        raise DomainError.from_denied(decision)
    return decision


def _record_refusal(actor: Actor, datum: Datum, denied: Denied, about: str) -> None:
    object_type, _, object_id = about.partition(":")
    record(
        "walls.access_denied",
        actor=actor.person,
        object_type=object_type,
        object_id=object_id,
        after={
            "code": denied.code,
            "message": denied.message,
            "issuer": datum.issuer,
            "area": datum.area,
            "kind": datum.kind.value,
        },
    )


# -- documents ----------------------------------------------------------------------------


def access_document_by_id(actor: Actor, document_id: int) -> IssuerDocument:
    """A document about an issuer, through the wall check (its refusal is on record).

    #13: a document behind a wall answers like a missing one, so that neither its issuer
    (a Brewer–Nash refusal would name it) nor its existence is given away.
    """
    missing = DomainError("wall.not_found", f"There is no document {document_id} you may read.")
    document = IssuerDocument.objects.select_related("issuer").filter(pk=document_id).first()
    if document is None:
        raise missing
    datum = Datum(document.issuer.key, document.area, Kind(document.kind))
    try:
        access_issuer_data(actor, datum, about=f"document:{document.pk}")
    except DomainError as refused:
        raise missing from refused
    return document


def do_create_document(
    actor: Actor, *, issuer: str, area: str, kind: Kind, title: str, body: str, case: Any = None
) -> IssuerDocument:
    """File a document in an area: written only from inside it, and confidential data only
    by someone whose history holds no other issuer's (BN-1 *-property). A refusal is
    recorded like a refused read."""
    walls = get_walls()
    if area not in walls.areas:
        raise DomainError("wall.invalid", f"There is no information area {area!r}.")
    if not title.strip():
        raise DomainError("wall.invalid", "A document needs a title.")
    target = get_issuer(issuer)
    # Public data is filed from inside the area too: CW-1 decides who may file, BN-1 what.
    checked = Datum(target.key, area, Kind.INTERNAL if kind == Kind.PUBLIC else kind)
    with transaction.atomic():
        decision = check_issuer_access(actor, checked, about=f"issuer:{target.key}", write=True)
        if isinstance(decision, ReadAllowed):
            document = IssuerDocument.objects.create(
                issuer=target,
                area=area,
                kind=kind.value,
                title=title.strip()[:200],
                body=body,
                author=actor.person,
                case=case,
            )
            after = {"issuer": target.key, "area": area, "kind": kind.value, "title": title}
            record(
                "walls.document.created",
                actor=actor.person,
                object_type="document",
                object_id=document.pk,
                after=after,
            )
            return document
        _record_refusal(actor, checked, decision, f"issuer:{target.key}")
    raise DomainError.from_denied(decision)


# -- deal projects and lists ----------------------------------------------------------------


def project_key(name: str) -> str:
    return slugify(name)[:64]


def do_open_project(case: Any, *, actor: str) -> DealProject:
    """A released deal mandate opens a confidential project led by its maker and puts the
    issuer on the watch list (CW-4; MaComp AT 6.2). Runs in the release's transaction."""
    payload = case.payload
    walls = get_walls()
    walled = walls.processes.get(case.process.key)
    issuer = get_issuer(payload["issuer"])
    now = timezone.now()
    project = DealProject.objects.create(
        key=project_key(payload["project"]),
        name=payload["project"],
        issuer=issuer,
        area=walled.area if walled else "",
        mandate=payload.get("mandate") or "",
        lead=case.maker,
        case=case,
    )
    record(
        "walls.project.opened",
        actor=actor,
        object_type="deal_project",
        object_id=project.key,
        after={
            "name": project.name,
            "issuer": issuer.key,
            "area": project.area,
            "mandate": project.mandate,
            "lead": case.maker.username,
        },
        reason=f"released deal-mandate case {case.pk}",
    )
    _add_member(project, case.maker, reason="mandate lead", actor=actor, at=now)
    _add_entry(ListEntry.Kind.WATCH, issuer, project, reason="confidential mandate", actor=actor)
    return project


def _add_member(project: DealProject, user: Any, *, reason: str, actor: str, at: datetime) -> None:
    ProjectMember.objects.create(
        project=project, user=user, since=at, reason=reason, added_by=actor
    )
    record(
        "walls.insider.added",
        actor=actor,
        object_type="deal_project",
        object_id=project.key,
        after={"person": user.username, "how": "member", "since": at, "reason": reason},
    )


def _add_entry(
    kind: str, issuer: Issuer, project: DealProject | None, *, reason: str, actor: str
) -> ListEntry:
    entry = ListEntry.objects.create(
        kind=kind,
        issuer=issuer,
        project=project,
        since=timezone.now(),
        reason=reason,
        added_by=actor,
    )
    record(
        f"walls.{kind}_list.added",
        actor=actor,
        object_type="issuer",
        object_id=issuer.key,
        after={"list": kind, "project": project.key if project else None, "reason": reason},
    )
    return entry


def _end_entry(entry: ListEntry, *, reason: str, actor: str) -> None:
    entry.until, entry.removed_by, entry.removal_reason = timezone.now(), actor, reason
    entry.save(update_fields=["until", "removed_by", "removal_reason", "last_updated"])
    record(
        f"walls.{entry.kind}_list.removed",
        actor=actor,
        object_type="issuer",
        object_id=entry.issuer.key,
        before={"list": entry.kind, "since": entry.since},
        after={"list": entry.kind, "until": entry.until},
        reason=reason,
    )


def _managed_project(key: str) -> DealProject:
    """The open project, locked (compliance's access was checked before the transaction)."""
    project = get_project(key)
    project = DealProject.objects.select_for_update().select_related("issuer").get(pk=project.pk)
    if not project.is_open:
        raise DomainError("wall.project_closed", f"The project {project.name} is closed.")
    return project


def do_add_member(project_key: str, username: str, *, reason: str, actor: Actor) -> ProjectMember:
    """Compliance adds a deal team member. Only people inside the project's area join this
    way; anyone else is brought over the wall by a crossing case (CW-2). BN-1 applies."""
    reason = _reason(reason)
    access_walls_admin(actor, "deal projects")
    with transaction.atomic():
        project = _managed_project(project_key)
        user = _person(username)
        walls = get_walls()
        facts = get_actor_facts(user)
        if not walls.inside(facts, project.area):
            raise DomainError(
                "wall.not_inside",
                f"{username} is not inside the {walls.area_name(project.area)} wall; request a "
                "wall crossing for them instead (CW-2).",
            )
        reader = get_reader(user, walls)
        if conflicting := walls.competitors_read(project.issuer.key, reader.history):
            names = ", ".join(walls.issuer_name(i) for i in conflicting)
            raise DomainError(
                "wall.conflict",
                f"{username} has read confidential data of {names}, a competitor of "
                f"{project.issuer.name} (BN-1).",
            )
        if project.members.filter(user=user, until__isnull=True).exists():
            raise DomainError("wall.invalid", f"{username} is a member of the project already.")
        _add_member(project, user, reason=reason, actor=actor.person, at=timezone.now())
        return project.members.get(user=user, until__isnull=True)


def do_remove_member(
    project_key: str, username: str, *, reason: str, actor: Actor
) -> ProjectMember:
    """Compliance takes a member off the deal team: they cease to be an insider now, and the
    end is on the audit chain with its time (#17, MAR Art. 18)."""
    reason = _reason(reason)
    access_walls_admin(actor, "deal projects")
    with transaction.atomic():
        project = _managed_project(project_key)
        member = (
            project.members.select_for_update()
            .select_related("user")
            .filter(user__username=username, until__isnull=True)
            .first()
        )
        if member is None:
            raise DomainError("wall.not_found", f"{username} is not a member of the project now.")
        member.until = timezone.now()
        member.save(update_fields=["until", "last_updated"])
        record(
            "walls.insider.ended",
            actor=actor.person,
            object_type="deal_project",
            object_id=project.key,
            after={"person": username, "how": "member", "until": member.until},
            reason=reason,
        )
        return member


def do_announce_project(project_key: str, *, reason: str, actor: Actor) -> DealProject:
    """The mandate is public: the issuer moves from the watch list to the restricted list."""
    reason = _reason(reason)
    access_walls_admin(actor, "deal projects")
    with transaction.atomic():
        project = _managed_project(project_key)
        if project.status == DealProject.Status.PUBLIC:
            raise DomainError("wall.invalid", f"{project.name} was announced already.")
        project.status, project.announced_at = DealProject.Status.PUBLIC, timezone.now()
        project.save(update_fields=["status", "announced_at", "last_updated"])
        record(
            "walls.project.announced",
            actor=actor.person,
            object_type="deal_project",
            object_id=project.key,
            before={"status": DealProject.Status.CONFIDENTIAL},
            after={"status": DealProject.Status.PUBLIC},
            reason=reason,
        )
        for entry in project.list_entries.filter(kind=ListEntry.Kind.WATCH, until__isnull=True):
            _end_entry(entry, reason="the mandate is public", actor=actor.person)
        _add_entry(
            ListEntry.Kind.RESTRICTED, project.issuer, project, reason=reason, actor=actor.person
        )
        return project


def do_close_project(project_key: str, *, reason: str, actor: Actor) -> DealProject:
    """The deal is over: members and crossings end, the watch-list entry ends. A restricted
    entry stays until compliance lifts it (a stabilisation period may follow)."""
    reason = _reason(reason)
    now = timezone.now()
    access_walls_admin(actor, "deal projects")
    with transaction.atomic():
        project = _managed_project(project_key)
        before = project.status
        project.status, project.closed_at = DealProject.Status.CLOSED, now
        project.save(update_fields=["status", "closed_at", "last_updated"])
        record(
            "walls.project.closed",
            actor=actor.person,
            object_type="deal_project",
            object_id=project.key,
            before={"status": before},
            after={"status": project.status},
            reason=reason,
        )
        for member in project.members.filter(until__isnull=True).select_related("user"):
            member.until = now
            member.save(update_fields=["until", "last_updated"])
            record(
                "walls.insider.ended",
                actor=actor.person,
                object_type="deal_project",
                object_id=project.key,
                after={"person": member.user.username, "how": "member", "until": now},
                reason=reason,
            )
        for crossing in project.crossings.filter(ended_at__isnull=True, valid_to__gt=now):
            _end_crossing(crossing, reason=f"project closed: {reason}", actor=actor.person)
        for entry in project.list_entries.filter(kind=ListEntry.Kind.WATCH, until__isnull=True):
            _end_entry(entry, reason="project closed", actor=actor.person)
        return project


def do_list_issuer(kind: str, issuer: str, *, reason: str, actor: Actor) -> ListEntry:
    """Compliance puts an issuer on a list by hand (a market sounding, a rumour, …)."""
    reason = _reason(reason)
    if kind not in ListEntry.Kind.values:
        raise DomainError("wall.invalid", f"There is no list {kind!r}.")
    access_walls_admin(actor, f"{kind} list")
    with transaction.atomic():
        target = get_issuer(issuer)
        if ListEntry.objects.filter(
            kind=kind, issuer=target, project__isnull=True, until__isnull=True
        ).exists():
            raise DomainError("wall.invalid", f"{target.name} is on the {kind} list already.")
        return _add_entry(kind, target, None, reason=reason, actor=actor.person)


def _current_entry(entry_id: int) -> ListEntry:
    entry = (
        ListEntry.objects.select_for_update()
        .select_related("issuer")
        .filter(pk=entry_id, until__isnull=True)
        .first()
    )
    if entry is None:
        raise DomainError("wall.not_found", f"There is no current list entry {entry_id}.")
    return entry


def do_delist(entry_id: int, *, reason: str, actor: Actor) -> ListEntry:
    """Compliance takes an entry off the watch list; the entry stays on record with its end.

    A restriction is lifted only by a released ``restricted-list-lift`` case (four eyes:
    trading, advice and research in the issuer are allowed again); asking here is refused
    with ``wall.four_eyes_required`` and recorded.
    """
    reason = _reason(reason)
    access_walls_admin(actor, "lists")
    with transaction.atomic():
        entry = _current_entry(entry_id)
        if entry.kind == ListEntry.Kind.RESTRICTED:
            message = (
                f"{entry.issuer.name} comes off the restricted list only when a second "
                "compliance officer releases a restricted-list-lift case."
            )
            refusal = {"code": "wall.four_eyes_required", "message": message}
        else:
            _end_entry(entry, reason=reason, actor=actor.person)
            return entry
    with transaction.atomic():
        record(
            "walls.denied",
            actor=actor.person,
            object_type="issuer",
            object_id=entry.issuer.key,
            after=refusal,
            reason=reason,
        )
    raise DomainError(refusal["code"], message)


def do_request_lift(entry_id: int, *, reason: str, actor: Actor) -> int:
    """Start the four-eyes case that lifts a restriction; returns the case's id."""
    from backoffice.cases.services import do_start_case  # cases build on walls' guards

    access_walls_admin(actor, "lists")
    entry = ListEntry.objects.select_related("issuer").filter(pk=entry_id, until__isnull=True)
    found = entry.filter(kind=ListEntry.Kind.RESTRICTED).first()
    if found is None:
        raise DomainError("wall.not_found", f"There is no current restriction {entry_id}.")
    payload = {"issuer": found.issuer.key, "reason": _reason(reason)}
    case = do_start_case(actor, LIFT_PROCESS, payload, submit=True).raise_if_denied()
    return int(case.pk)


def do_lift_restriction(case: Any, *, actor: str) -> ListEntry:
    """A released lift case ends the restriction (maker and releaser are two officers)."""
    entry = _current_restriction(str(case.payload["issuer"]))
    assert entry is not None  # checked at release, in this transaction
    reason = f"{case.payload['reason']} (case {case.pk}, requested by {case.maker.username})"
    _end_entry(entry, reason=reason, actor=actor)
    return entry


def _current_restriction(issuer: str) -> ListEntry | None:
    return (
        ListEntry.objects.select_for_update()
        .select_related("issuer")
        .filter(issuer__key=issuer, kind=ListEntry.Kind.RESTRICTED, until__isnull=True)
        .first()
    )


def check_lift(issuer: str) -> Denied | None:
    if _current_restriction(issuer) is None:
        return Denied("wall.not_found", f"{issuer!r} is not on the restricted list.")
    return None


# -- crossings ------------------------------------------------------------------------------


#: #13: what someone hears who names a deal project they may not know of, or one that does
#: not exist: the same status, code and words either way (no name of theirs echoed back)
UNKNOWN_PROJECT = Denied(
    "wall.unknown_project",
    "There is no deal project by that name that you may ask a wall crossing for.",
    (("project", "no such deal project"),),
)


def check_new_crossing(
    asker: ActorFacts, username: str, project_key: str, days: int
) -> Denied | None:
    """CW-2 and BN-1 for a requested crossing, as ``asker`` may hear it (submit, release).

    #13: a project the asker may not know of answers exactly like one that does not exist,
    and the person's own position (their crossings, their Brewer–Nash history) is told to
    them and to control only (``core.walls.position_refusal_told``). Every refusal is on
    record in full, with the issuer (``walls.access_denied`` on the project).
    """
    walls = get_walls()
    at = timezone.now()
    asking = User.objects.filter(username=asker.person).first()
    project = DealProject.objects.select_related("issuer").filter(key=project_key).first()
    if project is None:
        full = Denied("wall.unknown_project", f"There is no deal project {project_key!r}.")
        return _refuse_crossing(asker, project_key, None, full, UNKNOWN_PROJECT)
    domain = Project(project.key, project.name, project.issuer.key, project.area, project.is_open)
    known = asking is not None and may_know_project(
        walls, get_reader(asking, walls, at, asker), domain, at
    )
    if not known:
        full = Denied(
            "wall.unknown_project",
            f"{asker.person} may not know of the deal project {project.key} "
            f"({project.issuer.name}): outside its wall (CW-1) or in conflict (BN-1).",
        )
        return _refuse_crossing(asker, project_key, project, full, UNKNOWN_PROJECT)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        return Denied("wall.invalid", f"There is no active person {username!r}.")
    reader = get_reader(user, walls, at)
    if refused := check_crossing_request(walls, reader.facts, domain, days):
        field = "days" if refused.code == "wall.crossing_too_long" else ""
        told = replace(refused, details=((field, refused.message),) if field else ())
        return _refuse_crossing(asker, project_key, project, refused, told)
    if refused := check_crossing_position(walls, reader, domain, at):
        told = position_refusal_told(walls, asker, reader.facts, refused)
        return _refuse_crossing(asker, project_key, project, refused, told, person=username)
    return None


def _refuse_crossing(
    asker: ActorFacts,
    project_key: str,
    project: DealProject | None,
    full: Denied,
    told: Denied,
    *,
    person: str = "",
) -> Denied:
    """Record the whole refusal in the caller's transaction; return what the asker hears."""
    after: dict[str, Any] = {"code": full.code, "message": full.message, "told": told.code}
    if project is not None:
        after |= {"issuer": project.issuer.key, "area": project.area, "kind": "confidential"}
    if person:
        after["person"] = person
    record(
        "walls.access_denied",
        actor=asker.person,
        object_type="deal_project",
        object_id=project_key,
        after=after,
        reason="CW-2: a wall crossing was asked for",
    )
    return told


def do_start_crossing(case: Any, *, actor: str) -> WallCrossing:
    """A released wall-crossing case brings the person over the wall until it ends (CW-2).

    Runs in the release's transaction; the case's maker requested it, ``actor`` (compliance,
    never the maker: four eyes and a database constraint) approved it.
    """
    payload = case.payload
    project = get_project(payload["project"])
    user = _person(payload["person"])
    valid_from, valid_to = crossing_period(timezone.now(), int(payload["days"]))
    crossing = WallCrossing.objects.create(
        user=user,
        project=project,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=payload["reason"],
        requested_by=case.maker.username,
        approved_by=actor,
        case=case,
    )
    record(
        "walls.crossing.started",
        actor=actor,
        object_type="wall_crossing",
        object_id=crossing.pk,
        after={
            "person": user.username,
            "project": project.key,
            "issuer": project.issuer.key,
            "area": project.area,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "requested_by": crossing.requested_by,
            "approved_by": actor,
        },
        reason=payload["reason"],
    )
    return crossing


def _end_crossing(crossing: WallCrossing, *, reason: str, actor: str) -> None:
    before = {"ended": False, "valid_to": crossing.valid_to}
    crossing.ended_at, crossing.end_reason = timezone.now(), reason
    crossing.save(update_fields=["ended_at", "end_reason", "last_updated"])
    record(
        "walls.crossing.ended",
        actor=actor,
        object_type="wall_crossing",
        object_id=crossing.pk,
        before=before,
        after={"ended": True, "ended_at": crossing.ended_at, "person": crossing.user.username},
        reason=reason,
    )


def do_end_crossing(crossing_id: int, *, reason: str, actor: Actor) -> WallCrossing:
    """Compliance ends a crossing before its time (the need to know is over)."""
    reason = _reason(reason)
    access_walls_admin(actor, "wall crossings")
    with transaction.atomic():
        crossing = (
            WallCrossing.objects.select_for_update()
            .select_related("user")
            .filter(pk=crossing_id, ended_at__isnull=True, valid_to__gt=timezone.now())
            .first()
        )
        if crossing is None:
            raise DomainError("wall.not_found", f"There is no running wall crossing {crossing_id}.")
        _end_crossing(crossing, reason=reason, actor=actor.person)
        return crossing


def do_expire_crossings(*, actor: str, at: datetime | None = None) -> list[WallCrossing]:
    """Write down the end of every crossing whose time is up (``backoffice walls expire``).

    Reads stop at ``valid_to`` anyway (CW-2); this puts the end on record, one audit event
    per crossing, and is safe to run on a schedule or twice.
    """
    at = at or timezone.now()
    with transaction.atomic():
        due = list(
            WallCrossing.objects.select_for_update()
            .select_related("user")
            .filter(ended_at__isnull=True, valid_to__lte=at)
            .order_by("valid_to", "pk")
        )
        for crossing in due:
            _end_crossing(crossing, reason="expired", actor=actor)
    return due


# -- Brewer–Nash history ----------------------------------------------------------------------


def do_reset_history(username: str, conflict_class: str, *, reason: str, actor: Actor) -> int:
    """BN-1: only compliance frees a person of their side in a class, and it is on record."""
    reason = _reason(reason)
    access_walls_admin(actor, "Brewer–Nash histories")
    with transaction.atomic():
        user = _person(username)
        _lock_person(user)
        records = list(
            AccessRecord.objects.select_related("issuer").filter(
                user=user, reset_at__isnull=True, issuer__conflict_class__key=conflict_class
            )
        )
        if not records:
            raise DomainError(
                "wall.not_found", f"{username} has read nothing in the class {conflict_class!r}."
            )
        now = timezone.now()
        for row in records:
            row.reset_at, row.reset_by, row.reset_reason = now, actor.person, reason
            row.save(update_fields=["reset_at", "reset_by", "reset_reason", "last_updated"])
        record(
            "walls.history.reset",
            actor=actor.person,
            object_type="person",
            object_id=username,
            before={"issuers": sorted(r.issuer.key for r in records)},
            after={"issuers": [], "conflict_class": conflict_class},
            reason=reason,
        )
        return len(records)
