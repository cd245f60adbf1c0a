"""Who is acting: one ``Actor`` per request (``actor_of``) or per CLI command.

Services take the actor instead of a bare user and never look up again who the caller
is: their facts (lines, roles, permissions, limits), the delegations they act under and
their principals, the processes they may take part in, their position behind the walls
and the policy version are each worked out once, the first time a service asks, and kept
for the rest of the request.

Each part is provided by the app that owns its data, registered in ``AppConfig.ready``
(``register_part``), as engines, effects and guards are: this module imports no app.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from typing_extensions import override

from backoffice.core.actors import ActorFacts
from backoffice.core.delegation import ActingRules
from backoffice.core.four_eyes import Delegation
from backoffice.core.walls import WallPosition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "Actor",
    "actor_of",
    "cli_actor",
    "people_facts",
    "register_part",
    "register_people_facts",
]

T = TypeVar("T")

_PARTS: dict[str, Callable[[Actor], Any]] = {}


def register_part(name: str, provide: Callable[[Actor], Any]) -> None:
    """An app provides one part of every actor (``facts``, ``delegations``, …)."""
    _PARTS[name] = provide


_PEOPLE: list[Callable[[Iterable[str], date], dict[str, ActorFacts]]] = []


def register_people_facts(provide: Callable[[Iterable[str], date], dict[str, ActorFacts]]) -> None:
    """The app that knows people's roles and units provides their facts (``access``)."""
    _PEOPLE[:] = [provide]


def people_facts(usernames: Iterable[str], day: date) -> dict[str, ActorFacts]:
    """The facts of other people than the actor (those they act for), by username."""
    return _PEOPLE[0](usernames, day)


class Actor:
    """One person acting now, with what the rules need to know about them."""

    def __init__(
        self, user: User, *, today: date | None = None, session_key: str | None = None
    ) -> None:
        self.user = user
        self.today = today or timezone.localdate()
        #: the login session (#15 DSD: its activated session roles); None for a bearer
        #: token or the CLI, which see no session role active
        self.session_key = session_key

    @override
    def __repr__(self) -> str:
        return f"Actor({self.person!r})"

    @property
    def pk(self) -> int:
        return int(self.user.pk)

    @property
    def person(self) -> str:
        return str(self.user.get_username())

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user.is_authenticated)

    def _part(self, name: str) -> Any:
        return _PARTS[name](self)

    @cached_property
    def facts(self) -> ActorFacts:
        """Lines, units, roles, permissions, competence and board seat today."""
        facts: ActorFacts = self._part("facts")
        return facts

    @property
    def permissions(self) -> frozenset[str]:
        return self.facts.permissions

    @cached_property
    def delegations(self) -> tuple[Delegation, ...]:
        """Every delegation active today (chains run through other people's)."""
        delegations: tuple[Delegation, ...] = self._part("delegations")
        return delegations

    @cached_property
    def principals(self) -> Mapping[str, ActorFacts]:
        """The people this actor may act for today, through chains, with their facts."""
        principals: Mapping[str, ActorFacts] = self._part("principals")
        return principals

    @cached_property
    def processes(self) -> frozenset[str]:
        """Processes with a step this actor or a principal qualifies for."""
        processes: frozenset[str] = self._part("processes")
        return processes

    @cached_property
    def acting(self) -> ActingRules | None:
        """What acting for someone may add to this actor's own functions (#13)."""
        acting: ActingRules | None = self._part("acting")
        return acting

    @cached_property
    def wall(self) -> WallPosition:
        """Where this actor stands behind the Chinese walls (CW-1, BN-1, CW-2)."""
        wall: WallPosition = self._part("wall")
        return wall

    def forget(self) -> None:
        """After a change to this actor's own roles, units or delegations in this request."""
        parts = ("facts", "delegations", "principals", "processes", "acting", "wall")
        for name in (*parts, "inbox", "visible"):  # the last two: querysets built from them
            self.__dict__.pop(name, None)


def cli_actor() -> str:
    """Who did it, for the audit trail, when a change comes from the shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def actor_of(request: HttpRequest) -> Actor:
    """The request's actor; the API's bearer token may have set the user after the
    middleware ran, so the actor follows the user it was made for."""
    actor: Actor | None = getattr(request, "_backoffice_actor", None)
    if actor is None or actor.user is not request.user:
        actor = Actor(request.user, session_key=_session_key(request))  # type: ignore[arg-type]
        request._backoffice_actor = actor  # type: ignore[attr-defined]
    return actor


def _session_key(request: HttpRequest) -> str | None:
    """The login session of a browser request; a bearer-token request has none (#15 DSD)."""
    if getattr(request, "_backoffice_token", False):
        return None
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None) if session is not None else None
