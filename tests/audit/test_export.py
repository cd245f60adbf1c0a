"""#4: exports stream the log; a JSONL export verifies on its own, and tampering with it
(in any of the ways a database can be tampered with) is found and named."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from backoffice.audit.exports import ExportScope, export_log, parse_bound
from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import record
from backoffice.core.audit_sign import generate_private_key, sign_checkpoint
from backoffice.core.audit_verify import Problem, Verification, verify_export


@pytest.fixture
def log(checkpointed: Checkpoint) -> list[AuditEvent]:
    """#1..#12, checkpoint of #12 (its event is #13), then #14..#16 unsigned."""
    for n in range(3):
        with transaction.atomic():
            record("test.after", actor="lena.schulz", object_type="case", object_id=n)
    return list(AuditEvent.objects.order_by("seq"))


def export(fmt: str = "jsonl", **scope: Any) -> str:
    out = io.StringIO()
    export_log(out, fmt, ExportScope(**scope))  # type: ignore[arg-type]
    return out.getvalue()


def verify(text: str, key: Ed25519PrivateKey | None) -> Verification:
    keys = [key.public_key()] if key else []
    return verify_export(text.splitlines(keepends=True), public_keys=keys)


def problem_of(lines: list[str], key: Ed25519PrivateKey) -> Problem:
    outcome = verify("".join(lines), key)
    assert outcome.problem is not None, outcome.summary()
    return outcome.problem


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def index_of(lines: list[str], kind: str, seq: int) -> int:
    return next(i for i, line in enumerate(lines) if f'"kind":"{kind}","seq":{seq},' in line)


def test_a_jsonl_export_carries_its_checkpoint_and_verifies_alone(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    text = export()
    kinds = [r["kind"] for r in records(text)]
    assert kinds[0] == "header" and kinds[-1] == "end" and kinds.count("event") == 16
    assert kinds.index("checkpoint") == 13  # right after event #12
    outcome = verify(text, signing_key)
    assert outcome.ok, outcome.summary()
    assert (outcome.events, outcome.head_hash, outcome.checkpoints) == (16, log[-1].hash, 1)


def test_a_changed_field_in_the_export_is_named_modified(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    i = index_of(lines, "event", 6)
    lines[i] = lines[i].replace('"actor":"lena.schulz"', '"actor":"max.weber"')
    assert "max.weber" in lines[i]
    problem = problem_of(lines, signing_key)
    assert (problem.kind, problem.seq) == ("modified", 6)


def test_a_deleted_line_is_named_missing(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    del lines[index_of(lines, "event", 3)]
    problem = problem_of(lines, signing_key)
    assert (problem.kind, problem.seq) == ("missing", 3)


def test_two_swapped_lines_are_named_reordered(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    a, b = index_of(lines, "event", 5), index_of(lines, "event", 9)
    lines[a], lines[b] = lines[b], lines[a]
    problem = problem_of(lines, signing_key)
    assert (problem.kind, problem.seq) == ("reordered", 5)


def test_a_tail_dropped_after_a_checkpoint_is_named_truncated_even_with_a_fixed_end(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    cut = index_of(lines, "event", 10)
    kept = lines[:cut] + [line for line in lines[cut:] if '"kind":"checkpoint"' in line]
    last = records("".join(kept))[cut - 1]
    end = {"kind": "end", "events": 9, "head_seq": 9, "head_hash": last["hash"]}
    problem = problem_of([*kept, json.dumps(end) + "\n"], signing_key)
    assert (problem.kind, problem.seq) == ("truncated", 10)
    assert "covers #12" in problem.message


def test_an_export_cut_short_is_named_truncated(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    assert problem_of(lines[:-1], signing_key).kind == "truncated"  # no end record
    problem = problem_of(lines[:-3] + lines[-1:], signing_key)  # unsigned tail, end kept
    assert problem.kind == "truncated" and "events were removed" in problem.message


def test_a_forged_checkpoint_signature_is_named_forged(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    i = index_of(lines, "checkpoint", 12)
    record_ = json.loads(lines[i])
    record_["signature"] = record_["signature"][:10] + "A" * 10 + record_["signature"][20:]
    lines[i] = json.dumps(record_) + "\n"
    problem = problem_of(lines, signing_key)
    assert (problem.kind, problem.seq) == ("forged", 12)


def test_a_checkpoint_signed_with_another_key_is_named_forged(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    head = log[-1]
    forged = sign_checkpoint(generate_private_key(), head.seq, head.hash, "2027-01-01T00:00:00")
    lines.insert(len(lines) - 1, json.dumps(forged.as_record()) + "\n")
    problem = problem_of(lines, signing_key)
    assert problem.kind == "forged" and "not among the public keys" in problem.message


def test_a_line_that_is_not_a_record_is_named_malformed(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    lines = lines_of(export())
    lines[4] = lines[4][:40] + "\n"
    problem = problem_of(lines, signing_key)
    assert problem.kind == "malformed" and problem.message.startswith("line 5: not JSON")


def test_a_range_export_verifies_and_says_where_it_starts(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    outcome = verify(export(from_seq=4, to_seq=12), signing_key)
    assert outcome.ok, outcome.summary()
    assert (outcome.first_seq, outcome.head_seq, outcome.checkpoints) == (4, 12, 1)
    assert any("starts at #4" in note for note in outcome.notes)


def test_time_bounds_become_the_seq_range_they_cover(log: list[AuditEvent]) -> None:
    assert parse_bound(log[3].at.isoformat(), end=False) == 4
    assert parse_bound(log[3].at.isoformat(), end=True) == 4
    day = log[0].at.astimezone().date().isoformat()
    assert parse_bound(day, end=False) == 1
    assert parse_bound(day, end=True) == 16
    assert parse_bound("2000-01-01", end=True) == 0
    assert parse_bound("2999-01-01", end=False) == 17
    with pytest.raises(ValueError, match="neither a seq number nor"):
        parse_bound("yesterday", end=False)


def test_an_export_of_one_object_checks_each_event_but_not_the_links(
    log: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    text = export(object=("case", "1"))
    assert [r["seq"] for r in records(text) if r["kind"] == "event"] == [2, 3, 15]
    outcome = verify(text, signing_key)
    assert outcome.ok and outcome.events == 3
    assert any("links between them were not" in note for note in outcome.notes)
    tampered = text.replace('"reason":"step 3"', '"reason":"step 4"')
    assert verify(tampered, signing_key).problem == Problem(
        "modified", 3, "its content does not match its hash: it was changed after it was written"
    )


def test_csv_has_one_row_an_event_and_defuses_formulas(log: list[AuditEvent]) -> None:
    with transaction.atomic():
        event = record("test.x", actor="a", object_type="case", object_id=1, reason="=1+2")
    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    assert [row["seq"] for row in rows] == [str(n) for n in range(1, 18)]
    assert rows[-1]["reason"] == "'=1+2" and rows[-1]["hash"] == event.hash
    assert json.loads(rows[1]["after"]) == log[1].after and rows[0]["before"] == "null"
    assert rows[3]["on_behalf_of"] == "anna.schmidt"


def test_pm4py_reads_the_ocel_export(demo_bank: Any, log: list[AuditEvent], tmp_path: Path) -> None:
    import pm4py

    logging.getLogger("pm4py").setLevel(logging.ERROR)
    path = tmp_path / "audit.jsonocel"
    path.write_text(export("ocel"))
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.events) == AuditEvent.objects.count()
    types = set(ocel.objects["ocel:type"])
    assert {"person", "unit", "case", "membership", "system"} <= types
    relations = ocel.relations
    membership = relations[relations["ocel:activity"] == "org.membership.created"]
    assert {"person", "unit", "membership"} <= set(membership["ocel:type"])
    delegated = relations[(relations["ocel:qualifier"] == "on-behalf-of")]
    assert list(delegated["ocel:oid"]) == ["person:anna.schmidt"]
