"""The walls' read guard on cases (registered with ``cases.guards``).

A case of a walled process (``walls.walled_processes`` in the policy) is walled data: the
issuer named in its payload, held by the process's area. Lists and the inbox show it only
to those the rules let read it; opening it goes through ``services.access_issuer_data``;
entering or amending it is a read of the issuer's data by the maker (BN-1 history).
Outside the wall a walled case is not there: opening it answers like a missing case (#13).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.core.errors import Denied, DomainError
from backoffice.core.walls import Datum, WalledProcessSpec
from backoffice.walls.queries import get_walls
from backoffice.walls.research import check_research, is_research_process
from backoffice.walls.services import access_issuer_data, check_issuer_access

__all__ = ["WallGuard"]


def _datum(spec: WalledProcessSpec, payload: Mapping[str, Any]) -> Datum:
    return Datum(str(payload.get(spec.issuer) or ""), spec.area, spec.kind)


class WallGuard:
    def processes(self) -> frozenset[str]:
        return frozenset(get_walls().processes)

    def filters(self, actor: Actor) -> tuple[Q, Q]:
        """Hide walled cases the person may not read (CW-1, BN-1); show a project's walled
        cases to its insiders, members and people brought over the wall (CW-2)."""
        walls = get_walls()
        if not walls.processes or walls.is_control(actor.facts):
            return Q(), Q()
        now = timezone.now()
        position = actor.wall
        also, only = Q(), ~Q(process__key__in=sorted(walls.processes))
        for spec in walls.processes.values():
            readable = walls.readable_issuers(
                position.reader, spec.area, spec.kind, walls.classes, now
            )
            issuer_in = f"payload__{spec.issuer}__in"
            only |= Q(process__key=spec.process, **{issuer_in: sorted(readable)})
            shown = sorted(i for i in readable if (i, spec.area) in position.insider_of)
            if shown:
                also |= Q(process__key=spec.process, **{issuer_in: shown})
        return also, only

    def decides(self, actor: Actor, case: Case) -> bool | None:
        walls = get_walls()
        spec = walls.processes.get(case.process.key)
        if spec is None or walls.is_control(actor.facts):
            return None
        issuer = str(case.payload.get(spec.issuer) or "")
        position = actor.wall
        readable = walls.readable_issuers(
            position.reader, spec.area, spec.kind, walls.classes, timezone.now()
        )
        if issuer not in readable:
            return False
        return True if (issuer, spec.area) in position.insider_of else None

    def check_read(self, actor: Actor, case: Case, *, record: bool) -> None:
        """#13: a walled case the wall keeps the actor out of answers like a missing case
        (``case.not_found``, the words of ``cases.queries.access_case_by_id``): no issuer,
        no area, not even that it exists. The refusal is on record in full."""
        spec = get_walls().processes.get(case.process.key)
        if spec is None:
            return
        try:
            access_issuer_data(
                actor, _datum(spec, case.payload), about=f"case:{case.pk}", note=record
            )
        except DomainError as refused:
            message = f"There is no case {case.pk} that you may see."
            raise DomainError("case.not_found", message) from refused

    def check_write(
        self, actor: Actor, process_key: str, payload: Mapping[str, Any]
    ) -> Denied | None:
        walls = get_walls()
        spec = walls.processes.get(process_key)
        if spec is None:
            return None
        datum = _datum(spec, payload)
        if datum.issuer not in walls.classes:
            return Denied("wall.unknown_issuer", f"There is no issuer {datum.issuer!r}.")
        decision = check_issuer_access(actor, datum, about=f"process:{process_key}")
        if isinstance(decision, Denied):
            return decision
        if is_research_process(process_key):  # #17 RES-3, RES-4: drafting is writing research
            return check_research(actor.person, datum.issuer)
        return None
