"""Does every case agree with its history? Used after crashes and by operators.

For each case: replaying its events gives the stored status, step and payload hash;
event numbers run without gaps; every event has exactly one audit event of the matching
action; and no ``case.*`` audit event exists without its case event.
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
    audit_by_seq = {
        seq: (action, object_id)
        for seq, action, object_id in AuditEvent.objects.filter(object_type="case").values_list(
            "seq", "action", "object_id"
        )
    }
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
        if action.startswith("case.effect.") or used[seq] == 1:
            continue
        yield f"audit event {seq} ({action} on case {object_id}) has {used[seq]} case events"
