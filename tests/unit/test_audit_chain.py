"""The chain verifier in the pure core: every tampering, anywhere, is found and named."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.audit import (
    GENESIS_HASH,
    ChainedEvent,
    event_hash,
    fields_hash,
    to_json_value,
)
from backoffice.core.audit_export import write_jsonl
from backoffice.core.audit_sign import Checkpoint, generate_private_key, sign_checkpoint
from backoffice.core.audit_verify import StoredEvent, verify_chain, verify_export

KEY = generate_private_key()
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def make_chain(length: int) -> list[StoredEvent]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        chained = ChainedEvent(
            seq=seq,
            at=T0 + timedelta(seconds=seq),
            actor=f"person{seq % 3}",
            on_behalf_of="",
            action="case.voted",
            object_type="case",
            object_id=str(seq // 2),
            before=None if seq == 1 else {"votes": seq - 1},
            after={"votes": seq, "amount": "1000.00"},
            reason="",
            request_id=f"r{seq}",
            prev_hash=prev,
        )
        prev = event_hash(chained)
        fields = chained.as_dict()
        events.append(StoredEvent(fields, prev))
    return events


def signed(event: StoredEvent, key: Ed25519PrivateKey = KEY) -> Checkpoint:
    return sign_checkpoint(key, event.seq, event.hash, to_json_value(T0))


chains = st.integers(min_value=2, max_value=25).map(make_chain)


@given(chains)
def test_an_untouched_chain_verifies(events: list[StoredEvent]) -> None:
    outcome = verify_chain([*events, signed(events[-1])], public_keys=[KEY.public_key()])
    assert outcome.ok and outcome.events == len(events) and outcome.checkpoints == 1
    assert outcome.head_hash == events[-1].hash


@given(chains, st.data())
def test_any_changed_field_is_modified_at_that_seq(
    events: list[StoredEvent], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(events) - 1))
    name = data.draw(st.sampled_from(["at", "actor", "action", "object_id", "after", "reason"]))
    fields = dict(events[i].fields)
    fields[name] = {"votes": -1} if name == "after" else fields[name] + "x"
    events[i] = StoredEvent(fields, events[i].hash)
    problem = verify_chain(events).problem
    assert problem is not None and (problem.kind, problem.seq) == ("modified", i + 1)


@given(chains, st.data())
def test_any_deleted_event_but_the_last_is_missing(
    events: list[StoredEvent], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(events) - 2))
    del events[i]
    problem = verify_chain(events).problem
    assert problem is not None and (problem.kind, problem.seq) == ("missing", i + 1)


@given(chains, st.data())
def test_any_two_swapped_events_are_reordered(
    events: list[StoredEvent], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(events) - 2))
    j = data.draw(st.integers(i + 1, len(events) - 1))
    events[i], events[j] = events[j], events[i]
    problem = verify_chain(events).problem
    assert problem is not None and (problem.kind, problem.seq) == ("reordered", i + 1)


@given(chains, st.data())
def test_a_tail_cut_below_a_checkpoint_is_truncated(
    events: list[StoredEvent], data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(events) - 1))  # the checkpoint signs events[k]
    cut = data.draw(st.integers(1, k))  # events[cut:] are dropped
    checkpoint = signed(events[k])
    outcome = verify_chain([*events[:cut], checkpoint], public_keys=[KEY.public_key()])
    assert outcome.problem is not None
    assert (outcome.problem.kind, outcome.problem.seq) == ("truncated", cut + 1)


def test_a_checkpoint_kept_elsewhere_finds_a_cut_that_took_the_stored_ones_along() -> None:
    events = make_chain(10)
    kept = signed(events[8])
    outcome = verify_chain(events[:5], checkpoints=[kept], public_keys=[KEY.public_key()])
    assert outcome.problem is not None and outcome.problem.kind == "truncated"


def test_forged_and_foreign_checkpoints_are_forged() -> None:
    events = make_chain(5)
    good = signed(events[-1])
    tampered = replace(good, hash=events[1].hash, seq=2)
    problem = verify_chain([*events, tampered], public_keys=[KEY.public_key()]).problem
    assert problem is not None and (problem.kind, problem.seq) == ("forged", 2)
    foreign = signed(events[-1], generate_private_key())
    problem = verify_chain([*events, foreign], public_keys=[KEY.public_key()]).problem
    assert problem is not None and problem.kind == "forged"
    garbage = replace(good, signature="not base64!")
    problem = verify_chain([*events, garbage], public_keys=[KEY.public_key()]).problem
    assert problem is not None and problem.kind == "forged"


def test_a_jsonl_export_round_trips_and_is_verified_alone() -> None:
    events = make_chain(30)
    out = io.StringIO()
    count = write_jsonl(out, events, [signed(events[9]), signed(events[29])], header={})
    assert count == 30
    outcome = verify_export(out.getvalue().splitlines(), public_keys=[KEY.public_key()])
    assert outcome.ok and outcome.checkpoints == 2 and outcome.head_hash == events[-1].hash


def test_anchors_are_counted_apart_and_hold_a_rewrite_past_the_last_stored_checkpoint() -> None:
    events = make_chain(10)
    stored, anchored = signed(events[4]), [signed(events[4]), signed(events[9])]
    keys = [KEY.public_key()]
    outcome = verify_chain(
        [*events[:5], stored, *events[5:]], checkpoints=anchored, public_keys=keys
    )
    assert outcome.ok and (outcome.checkpoints, outcome.anchors) == (1, 2)
    assert outcome.summary().endswith("1 checkpoint(s) matched, 2 anchor(s) matched")
    # #6..#10 rewritten and re-hashed: a consistent chain that the stored checkpoint accepts.
    rewritten, prev = events[:5], events[4].hash
    for event in events[5:]:
        fields = event.fields | {"reason": "rewritten", "prev_hash": prev}
        prev = fields_hash(fields)
        rewritten.append(StoredEvent(fields, prev))
    assert verify_chain([*rewritten[:5], stored, *rewritten[5:]], public_keys=keys).ok
    problem = verify_chain(rewritten, checkpoints=anchored, public_keys=keys).problem
    assert problem is not None and (problem.kind, problem.seq) == ("modified", 10)
    assert "(kept outside the database): the log up to #10 was rewritten" in problem.message


def test_a_whole_trail_without_events_is_empty_unless_allowed() -> None:
    problem = verify_chain([]).problem
    assert problem is not None and (problem.kind, problem.seq) == ("empty", None)
    assert verify_chain([], allow_empty=True).ok
    # A range or one object's events may well be empty: that says nothing about the trail.
    assert verify_chain([], start_seq=5, start_hash=None).ok
    assert verify_chain([], linked=False).ok
    kept = signed(make_chain(3)[-1])
    problem = verify_chain([], checkpoints=[kept], allow_empty=True).problem
    assert problem is not None and problem.kind == "truncated"
    assert "the whole trail was deleted" in problem.message
