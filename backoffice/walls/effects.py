"""What released walls cases do: open a deal project, bring someone over the wall, publish
research, clear a trade. ``check`` runs at submit and at release: a refusal then (the
issuer went onto the restricted list meanwhile, say) stops the release with its code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.base.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.walls import Kind, check_restricted
from backoffice.walls.models import DealProject, ListEntry
from backoffice.walls.pad import check_clearance, do_clear_order
from backoffice.walls.queries import get_walls, listed_issuers, pickable_projects
from backoffice.walls.research import check_research
from backoffice.walls.services import (
    check_lift,
    check_new_crossing,
    do_create_document,
    do_lift_restriction,
    do_open_project,
    do_start_crossing,
    project_key,
)

__all__ = [
    "OpenProject",
    "Cross",
    "PublishResearch",
    "ClearTrade",
    "LiftRestriction",
    "ClearPadOrder",
]


def _problem(denied: Denied, field: str = "") -> EffectProblem:
    errors = [{"field": field, "message": denied.message}] if field else []
    return EffectProblem(denied.code, denied.message, errors)


def _unknown_issuer(payload: Mapping[str, Any]) -> EffectProblem | None:
    key = str(payload.get("issuer") or "")
    if key not in get_walls().classes:
        return EffectProblem(
            "wall.unknown_issuer",
            f"There is no issuer {key!r}.",
            [{"field": "issuer", "message": "unknown issuer"}],
        )
    return None


def _restricted(payload: Mapping[str, Any], activity: str) -> EffectProblem | None:
    """CW-3, checked at submit and again at release."""
    if problem := _unknown_issuer(payload):
        return problem
    walls = get_walls()
    issuer = str(payload["issuer"])
    denied = check_restricted(walls, issuer, listed_issuers(ListEntry.Kind.RESTRICTED), activity)
    return _problem(denied) if denied else None


class OpenProject:
    """``walls.open_project``: the released mandate opens a confidential deal project."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        if problem := _unknown_issuer(payload):
            return problem
        key = project_key(str(payload.get("project") or ""))
        if not key or DealProject.objects.filter(key=key).exists():
            return EffectProblem(
                "wall.project_exists",
                f"Choose another code name: {key or 'this name'!r} is taken or empty.",
                [{"field": "project", "message": "choose another code name"}],
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        issuer = str(payload.get("issuer") or "")
        return {
            "kind": "project",
            "project": project_key(str(payload.get("project") or "")),
            "issuer": get_walls().issuer_name(issuer),
            "mandate": payload.get("mandate"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        project = do_open_project(case, actor=actor)
        return {"project": project.key, "issuer": project.issuer.key, "status": project.status}


class Cross:
    """``walls.cross``: the released crossing brings the person over the wall (CW-2)."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        """Nothing to say before it is known who asks (#13): ``check_actor`` decides."""
        return None

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """CW-2 and BN-1 at submit and at release, told as the person acting may hear it:
        a project they may not know of is "no such project", and another person's
        position is not theirs to learn (``services.check_new_crossing``)."""
        return check_new_crossing(
            facts,
            str(payload.get("person") or ""),
            str(payload.get("project") or ""),
            int(payload.get("days") or 0),
        )

    def field_choices(self, actor: Actor) -> dict[str, list[tuple[str, str]]]:
        """#19 (defect 14): the project is picked from those the requester may know of,
        not typed as a key from hearsay."""
        return {"project": pickable_projects(actor)}

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "crossing",
            "person": payload.get("person"),
            "project": payload.get("project"),
            "days": payload.get("days"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        crossing = do_start_crossing(case, actor=actor)
        return {
            "crossing": crossing.pk,
            "person": crossing.user.username,
            "project": crossing.project.key,
            "valid_to": crossing.valid_to,
        }


class PublishResearch:
    """``walls.publish_research``: released research becomes a public document (CW-3)."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        return _restricted(payload, "publishing research")

    def check_case(self, case: Any, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """#17 RES-3 and RES-4 at submit and release: the person acting, and the author
        whose note the release would publish (a crossed maker's note stays unpublished)."""
        issuer = str(payload.get("issuer") or "")
        return check_research(facts.person, issuer, maker=case.maker.get_username())

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "publication",
            "issuer": get_walls().issuer_name(str(payload.get("issuer") or "")),
            "rating": payload.get("rating"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        walled = get_walls().processes.get(case.process.key)
        document = do_create_document(
            Actor(case.maker),
            issuer=case.payload["issuer"],
            area=walled.area if walled else "research",
            kind=Kind.PUBLIC,
            title=case.payload["headline"],
            body=f"{case.payload['rating'].upper()}\n\n{case.payload['summary']}",
            case=case,
        )
        return {"document": document.pk, "issuer": document.issuer.key, "published_by": actor}


class ClearTrade:
    """``walls.clear_trade``: pre-clearance of a personal or proprietary trade.

    Refused in restricted issuers (CW-3). A watch-listed issuer is cleared, and compliance
    is alerted in the audit trail (CW-4); the requester never learns of the watch list.
    """

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        return _restricted(payload, "a personal or proprietary trade")

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "trade",
            "issuer": get_walls().issuer_name(str(payload.get("issuer") or "")),
            "side": payload.get("side"),
            "quantity": payload.get("quantity"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        issuer = str(case.payload["issuer"])
        if issuer in listed_issuers(ListEntry.Kind.WATCH):
            record(
                "walls.watch_list.hit",
                actor=actor,
                object_type="issuer",
                object_id=issuer,
                after={"case": case.pk, "process": case.process.key, "trader": case.maker.username},
                reason="CW-4: a cleared trade in a watch-listed issuer",
            )
        return {"issuer": issuer, "cleared_at": timezone.now()}


class LiftRestriction:
    """``walls.lift_restriction``: an issuer comes off the restricted list (CW-3) only when a
    second compliance officer releases what the first asked for."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        if problem := _unknown_issuer(payload):
            return problem
        denied = check_lift(str(payload["issuer"]))
        return _problem(denied, "issuer") if denied else None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "change",
            "object": get_walls().issuer_name(str(payload.get("issuer") or "")),
            "field": "restricted list",
            "before": "restricted",
            "after": "lifted",
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        entry = do_lift_restriction(case, actor=actor)
        return {"issuer": entry.issuer.key, "list": entry.kind, "until": entry.until}


class ClearPadOrder:
    """``walls.clear_pad_order``: one blocked personal order goes through (PAD-3); the
    restriction, the holding period and every list stay as they are."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        denied = check_clearance(int(payload.get("order") or 0))
        return _problem(denied, "order") if denied else None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "change",
            "object": f"personal order {payload.get('order')}",
            "field": "status",
            "before": "blocked",
            "after": "cleared",
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        order = do_clear_order(case, actor=actor)
        return {"order": order.pk, "status": order.status, "cleared_by": actor}
