"""Does every case agree with its history? Used after crashes and by operators.

For each case: replaying its events gives the stored status, step and payload hash;
event numbers run without gaps; every event has exactly one audit event of the matching
action; no ``case.*`` audit event exists without its case event; and every audit event
about a case (also another app's, such as a wall's refused read) names a case that exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case, CaseEvent
from backoffice.cases.queries import domain_case

__all__ = ["check_cases"]


def check_cases(chunk: int = 500) -> Iterator[str]:
    """Every inconsistency found, as a sentence naming the case and what is wrong."""
    cases = Case.objects.select_related("process").prefetch_related("events").order_by("pk")
    for case in cases.iterator(chunk_size=chunk):
        events = list(case.events.all())
        if [e.seq for e in events] != list(range(1, len(events) + 1)):
            yield f"case {case.pk}: event numbers have gaps or repeats"
        if not events or events[0].kind != "started":
            yield f"case {case.pk}: history does not begin with 'started'"
            continue
        replayed = domain_case(case)
        stored = (case.status, case.current_step or None, case.payload_hash)
        derived = (replayed.status.value, replayed.step, replayed.payload_hash)
        if stored != derived:
            yield f"case {case.pk}: stored {stored} but its events say {derived}"
    # #13: other apps put their own events on a case (a wall's refused read of it,
    # ``walls.access_denied``); those have no case event and need none, but the case exists.
    known = {str(pk) for pk in Case.objects.values_list("pk", flat=True)}
    audit_by_seq: dict[int, tuple[str, str]] = {}
    on_cases = AuditEvent.objects.filter(object_type="case").values_list(
        "seq", "action", "object_id"
    )
    for seq, action, object_id in on_cases.iterator(chunk_size=chunk):
        if object_id not in known:
            yield f"audit event {seq} ({action}) is about case {object_id}, which does not exist"
        elif _is_case_event(action):
            audit_by_seq[seq] = (action, object_id)
    used: Counter[int] = Counter()
    for case_id, seq, kind, audit_seq in CaseEvent.objects.values_list(
        "case_id", "seq", "kind", "audit_seq"
    ):
        expected = ("case.denied" if kind == "denied" else f"case.{kind}", str(case_id))
        if audit_seq is None or audit_by_seq.get(audit_seq) != expected:
            yield f"case {case_id} event {seq} ({kind}): no matching audit event"
        elif audit_seq is not None:
            used[audit_seq] += 1
    for seq, (action, object_id) in audit_by_seq.items():
        if used[seq] != 1:
            yield f"audit event {seq} ({action} on case {object_id}) has {used[seq]} case events"


def _is_case_event(action: str) -> bool:
    """The audit twin of a case event (``case.submitted``, ``case.denied``, …); the record
    of a released case's effect (``case.effect.…``) is the release's, not an event of its own."""
    return action.startswith("case.") and not action.startswith("case.effect.")
