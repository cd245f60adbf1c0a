"""#13: sums over related cases, read under a lock so concurrent submissions see each other.

A process with ``aggregate: {by: creditor, window: 1d}`` picks its tier by the case's
amount plus the amounts of the process's other cases for the same creditor (same
currency) submitted within the window that are submitted, returned or released — so two
payments of 9,999 do not slip under a 10,000 tier. Without a lock, two submissions at the
same moment would each miss the other; ``lock_aggregate`` serialises the submissions of one
process and ``by`` value (PostgreSQL: a transaction-scoped advisory lock keyed by both;
SQLite: every write transaction is IMMEDIATE, so they are serialised already).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef

from backoffice.cases.models import Case, CaseEvent
from backoffice.core.four_eyes import Aggregate, Status, aggregate_key
from backoffice.core.payload import money_of
from backoffice.core.processes import ProcessSpec

__all__ = ["COUNTED", "lock_aggregate", "find_aggregate", "find_maintainers"]

#: Cases that count towards a sum: waiting for checkers, back with the maker, or paid out.
COUNTED = (Status.SUBMITTED.value, Status.RETURNED.value, Status.RELEASED.value)


def _lock_id(process: str, value: Any) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock`` from the process and the value."""
    digest = hashlib.blake2b(
        f"aggregate\0{process}\0{aggregate_key(value)}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_aggregate(spec: ProcessSpec, payload: Mapping[str, Any]) -> None:
    """Hold the sum of ``payload``'s ``by`` value until the transaction ends.

    Taken in the submission's transaction before the sum is read; the lock is released at
    commit, after the submission's event is written, so the next one counts it.
    """
    if spec.aggregate is None or not connection.in_atomic_block:
        return
    if connection.vendor == "postgresql":
        key = _lock_id(spec.id, payload.get(spec.aggregate.by))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def find_aggregate(
    row: Case, spec: ProcessSpec, payload: Mapping[str, Any], now: datetime
) -> Aggregate:
    """The related cases of ``row`` as of ``now`` (see the module docstring)."""
    rule = spec.aggregate
    assert rule is not None and spec.amount is not None
    value = payload.get(rule.by)
    own = money_of(payload.get(spec.amount))
    currency = own.currency if own else ""
    if value in (None, "") or own is None:
        return Aggregate(rule.by, value, rule.window, currency)
    since = now - rule.period
    key = aggregate_key(value)[:300]
    # the process's cases for this value (an index), submitted within the window
    submitted = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind="submitted", at__gte=since)
    candidates = (
        Case.objects.filter(
            process_id=row.process_id,
            aggregate_key=key,
            status__in=COUNTED,
            currency=currency,
            amount__isnull=False,
        )
        .filter(Exists(submitted))
        .exclude(pk=row.pk or 0)
        .order_by("pk")
        .values_list("pk", "amount")
    )
    others = tuple((pk, amount) for pk, amount in candidates if amount is not None)
    return Aggregate(rule.by, value, rule.window, currency, others)


#: #16: cases whose change took no effect do not make anyone a maintainer
_NO_CHANGE = (Status.REJECTED.value, Status.WITHDRAWN.value)


def find_maintainers(
    spec: ProcessSpec, payload: Mapping[str, Any], now: datetime
) -> dict[tuple[str, str, str], frozenset[str]]:
    """#16: for each ``exclude.maintained`` rule of the process's steps, who started, amended
    or approved a case of the named process for the object this payload names within the
    rule's days (also acting for someone: both count). One statement per rule."""
    found: dict[tuple[str, str, str], frozenset[str]] = {}
    for step in spec.steps:
        for rule in step.exclude.maintained:
            if rule.key in found:
                continue
            value = payload.get(rule.field)
            if value in (None, ""):
                found[rule.key] = frozenset()
                continue
            since = now - timedelta(days=rule.days)
            rows = (
                CaseEvent.objects.filter(
                    case__process__key=rule.process,
                    kind__in=("started", "amended", "approved", "released"),
                    at__gte=since,
                    **{f"case__payload__{rule.other_field or rule.field}": value},
                )
                .exclude(case__status__in=_NO_CHANGE)
                .values_list("actor", "on_behalf_of")
                .distinct()
            )
            people = {person for pair in rows for person in pair if person}
            found[rule.key] = frozenset(people)
    return found
