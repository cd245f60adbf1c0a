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

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied

if TYPE_CHECKING:
    from backoffice.cases.models import Case

__all__ = ["ReadGuard", "register_guard", "guard_filters", "guard_read", "guard_write"]


class ReadGuard(Protocol):
    def filters(self, user: Any, facts: ActorFacts) -> tuple[Q, Q]:
        """``(also, only)``: cases the guard lets ``user`` see beyond the four-eyes rules,
        and a condition every case ``user`` sees must meet (``Q()``: none)."""
        ...

    def check_read(self, user: Any, case: Case, *, record: bool) -> None:
        """Raise ``DomainError`` (after recording the refusal) if ``user`` may not read
        ``case``; with ``record``, note the read where the guard keeps a history."""
        ...

    def check_write(self, user: Any, process_key: str, payload: Mapping[str, Any]) -> Denied | None:
        """A refusal if ``user`` may not enter this payload; runs in the case's transaction."""
        ...


_GUARDS: list[ReadGuard] = []


def register_guard(guard: ReadGuard) -> None:
    _GUARDS.append(guard)


def guard_filters(user: Any, facts: ActorFacts) -> tuple[Q, Q]:
    also, only = Q(), Q()
    for guard in _GUARDS:
        more, narrower = guard.filters(user, facts)
        also, only = also | more, only & narrower
    return also, only


def guard_read(user: Any, case: Case, *, record: bool = True) -> None:
    for guard in _GUARDS:
        guard.check_read(user, case, record=record)


def guard_write(user: Any, process_key: str, payload: Mapping[str, Any]) -> Denied | None:
    for guard in _GUARDS:
        if denied := guard.check_write(user, process_key, payload):
            return denied
    return None
