"""Read guards: rules of other apps on who may read or write a case's data (#8).

The four-eyes rules decide who may *act* on a case; some cases also hold data that other
rules protect (a deal mandate is inside information behind a Chinese wall). A guard is
registered by its app (``walls`` does in ``ready()``) and the cases app asks every guard,
in its one checked read path (``queries.visible_cases``/``access_case_by_id``) and when a
maker writes a payload (``services.do_start_case``, amend). Without guards nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Q

from backoffice.base.actor import Actor
from backoffice.core.errors import Denied

if TYPE_CHECKING:
    from backoffice.cases.models import Case

__all__ = [
    "ReadGuard",
    "register_guard",
    "guard_decides",
    "guard_filters",
    "guarded_processes",
    "guard_read",
    "guard_write",
]


class ReadGuard(Protocol):
    def processes(self) -> frozenset[str]:
        """The processes whose cases this guard has a say on (the rest it never filters)."""
        ...

    def filters(self, actor: Actor) -> tuple[Q, Q]:
        """``(also, only)``: cases the guard lets the actor see beyond the four-eyes rules,
        and a condition every case the actor sees must meet (``Q()``: none)."""
        ...

    def decides(self, actor: Actor, case: Case) -> bool | None:
        """``filters`` for one loaded case: True (``also``), False (not ``only``), or None
        when the case is not the guard's to decide."""
        ...

    def check_read(self, actor: Actor, case: Case, *, record: bool) -> None:
        """Raise ``DomainError`` (after recording the refusal) if the actor may not read
        ``case``; with ``record``, note the read where the guard keeps a history."""
        ...

    def check_write(
        self, actor: Actor, process_key: str, payload: Mapping[str, Any]
    ) -> Denied | None:
        """A refusal if the actor may not enter this payload; runs in the case's transaction."""
        ...


_GUARDS: list[ReadGuard] = []


def register_guard(guard: ReadGuard) -> None:
    _GUARDS.append(guard)


def guarded_processes() -> frozenset[str]:
    return frozenset().union(*(guard.processes() for guard in _GUARDS))


def guard_filters(actor: Actor) -> tuple[Q, Q]:
    also, only = Q(), Q()
    for guard in _GUARDS:
        more, narrower = guard.filters(actor)
        also, only = also | more, only & narrower
    return also, only


def guard_decides(actor: Actor, case: Case) -> bool | None:
    """False if a guard hides the case, True if one shows it, None if none has a say."""
    shown = None
    for guard in _GUARDS:
        verdict = guard.decides(actor, case)
        if verdict is False:
            return False
        shown = shown or verdict
    return shown


def guard_read(actor: Actor, case: Case, *, record: bool = True) -> None:
    for guard in _GUARDS:
        guard.check_read(actor, case, record=record)


def guard_write(actor: Actor, process_key: str, payload: Mapping[str, Any]) -> Denied | None:
    for guard in _GUARDS:
        if denied := guard.check_write(actor, process_key, payload):
            return denied
    return None
