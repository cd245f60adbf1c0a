"""Verifying the audit chain from the database or from an export, with nothing but this file.

``verify_chain`` reads events in stored order (and checkpoints) once, in constant memory,
recomputes every hash and stops at the first problem, which it names:

- ``modified``  an event's content does not match its hash, or it no longer links to the
  event before it (that one was changed and its hash recomputed);
- ``missing``   a sequence number is absent (a row or line was deleted);
- ``reordered`` events are not in the order they were chained in;
- ``truncated`` the log ends before a signed checkpoint (its tail was cut off);
- ``forged``    a checkpoint's signature does not verify with the public key(s) given;
- ``empty``     the trail has no events at all (#13: not "OK" unless asked to allow it);
- ``malformed`` an export line that is not an audit record.

Checkpoints kept outside the database (*anchors*, #13: ``audit checkpoint --to FILE``) are
checked like the stored ones, and they still stand when the stored ones were deleted with
the events they covered.

Only after a problem does it read on, to tell a gap from a reordering.

#14: readers hash on the fast route (``core.audit``: msgspec, byte-identical to
``canonical_json``) and hand over runs of events whose content matched their hash as
``HashedEvents``; ``verify_chain`` checks their links in a tight loop. Whatever is not
plainly fine (a line the fast route cannot read, a hash that does not match, a gap, a
pending checkpoint) takes the reference route, event by event, so every verdict is the
one the reference route gives.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from msgspec import UNSET
from typing_extensions import override

from backoffice.core.audit import (
    CANONICAL,
    GENESIS_HASH,
    HASHED_FIELDS,
    NOT_FAST,
    decode_canonical_event,
    fields_hash,
)
from backoffice.core.audit_sign import Checkpoint, key_fingerprint, signature_is_valid

__all__ = [
    "EXPORT_FORMAT",
    "ExportReader",
    "HashedEvents",
    "Problem",
    "ProblemKind",
    "StoredEvent",
    "Verification",
    "interleave",
    "read_checkpoints",
    "verify_chain",
    "verify_export",
]

#: The ``format`` of a JSONL export's header line; ``version`` changes with its shape.
EXPORT_FORMAT = "backoffice-audit"

ProblemKind = Literal[
    "modified", "missing", "reordered", "truncated", "forged", "empty", "malformed"
]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: the hashed fields (JSON values) and the hash stored with them."""

    fields: dict[str, Any]
    hash: str

    @property
    def seq(self) -> int:
        seq: int = self.fields["seq"]
        return seq

    @property
    def prev_hash(self) -> Any:
        return self.fields["prev_hash"]

    def matches(self) -> bool:
        """Whether the content hashes to the stored hash (the reference route)."""
        try:
            return fields_hash(self.fields) == self.hash
        except ValueError:  # an unpaired surrogate: no event ever hashed could hold one
            return False

    def as_record(self) -> dict[str, Any]:
        return {"kind": "event", **self.fields, "hash": self.hash}


#: (seq, prev_hash, hash) of one event whose content a reader found to match its hash.
Link = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class HashedEvents:
    """Events in stored order whose content already matched their hash; links unchecked.

    A reader on the fast route hands these over in runs (constant memory: a run is short),
    so that checking the links costs a few comparisons an event.
    """

    links: list[Link]


class _Hashed(NamedTuple):
    """One event of a ``HashedEvents`` run on the reference route: its content matched."""

    seq: int
    prev_hash: str
    hash: str

    def matches(self) -> bool:
        return True


def _events(rest: Iterator[Any]) -> Iterator[StoredEvent | _Hashed]:
    """The events among the items still to come, runs taken apart."""
    for item in rest:
        if isinstance(item, HashedEvents):
            for link in item.links:
                yield _Hashed(*link)
        elif isinstance(item, StoredEvent):
            yield item


@dataclass(frozen=True)
class Problem:
    """What is wrong, and the first sequence number it concerns (None: not one event)."""

    kind: ProblemKind
    seq: int | None
    message: str

    @override
    def __str__(self) -> str:
        where = f"#{self.seq} " if self.seq is not None else ""
        return f"{where}{self.kind}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """The outcome: how much was checked, the head, and the first problem if there is one."""

    events: int
    first_seq: int
    head_seq: int
    head_hash: str
    checkpoints: int
    problem: Problem | None
    notes: tuple[str, ...] = ()
    anchors: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return f"FAILED {'at ' if self.problem.seq is not None else ''}{self.problem}"
        span = f"#{self.first_seq}..#{self.head_seq}" if self.events else "no events"
        anchors = f", {self.anchors} anchor(s) matched" if self.anchors else ""
        return (
            f"OK: {self.events} events ({span}), head #{self.head_seq} {self.head_hash}, "
            f"{self.checkpoints} checkpoint(s) matched{anchors}"
        )


def interleave(
    events: Iterable[StoredEvent], checkpoints: Iterable[Checkpoint]
) -> Iterator[StoredEvent | Checkpoint]:
    """Both in seq order: each checkpoint right after the event it signs, the rest at the end.

    Checkpoints past the last event stay in: they are the evidence of a cut-off tail.
    """
    signed = iter(checkpoints)
    waiting = next(signed, None)
    for event in events:
        yield event
        while waiting is not None and waiting.seq <= event.seq:
            yield waiting
            waiting = next(signed, None)
    if waiting is not None:
        yield waiting
        yield from signed


class _Stop(Exception):
    """Control flow inside the verifier: the first problem ends the run."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass
class _Chain:
    """The verifier's state: constant size, plus the checkpoints not yet reached.

    ``pending`` holds each waiting checkpoint with whether it is an anchor (kept outside).
    """

    keys: dict[str, Ed25519PublicKey]
    expected_seq: int
    prev_hash: str | None
    linked: bool
    first_seq: int = 0
    last_seq: int = 0
    last_hash: str = ""
    events: int = 0
    matched: int = 0
    anchors: int = 0
    pending: dict[int, list[tuple[Checkpoint, bool]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def check_signature(self, checkpoint: Checkpoint) -> None:
        if not self.keys:
            note = "checkpoint signatures were not checked: no public key was given"
            if note not in self.notes:
                self.notes.append(note)
            return
        key = self.keys.get(checkpoint.key)
        if key is None:
            raise _Stop(
                Problem(
                    "forged",
                    checkpoint.seq,
                    f"the checkpoint made at {checkpoint.at} names key {checkpoint.key[:16]}…, "
                    "which is not among the public keys given",
                )
            )
        if not signature_is_valid(checkpoint, key):
            raise _Stop(
                Problem(
                    "forged",
                    checkpoint.seq,
                    f"the signature of the checkpoint made at {checkpoint.at} does not verify "
                    f"with key {checkpoint.key[:16]}…: the checkpoint was forged or altered",
                )
            )

    def expect(self, checkpoint: Checkpoint, *, in_stream: bool) -> None:
        """Check a checkpoint's signature now, and its hash once its event has come by."""
        self.check_signature(checkpoint)
        if self.events and checkpoint.seq == self.last_seq:
            self.match(checkpoint, self.last_hash, anchor=not in_stream)
        elif self.events and checkpoint.seq < self.last_seq and in_stream:
            raise _Stop(
                Problem(
                    "reordered",
                    checkpoint.seq,
                    f"the checkpoint for #{checkpoint.seq} appears after #{self.last_seq}",
                )
            )
        else:
            self.pending.setdefault(checkpoint.seq, []).append((checkpoint, not in_stream))

    def reached(self, seq: int, digest: str) -> None:
        for checkpoint, anchor in self.pending.pop(seq, ()):
            self.match(checkpoint, digest, anchor=anchor)

    def match(self, checkpoint: Checkpoint, digest: str, *, anchor: bool) -> None:
        if checkpoint.hash != digest:
            raise _Stop(
                Problem(
                    "modified",
                    checkpoint.seq,
                    f"its hash differs from the one signed in the checkpoint of "
                    f"{checkpoint.at}{_KEPT if anchor else ''}: the log up to "
                    f"#{checkpoint.seq} was rewritten",
                )
            )
        if anchor:
            self.anchors += 1
        else:
            self.matched += 1


#: How the verdicts name an anchor: a checkpoint that came from outside the log.
_KEPT = " (kept outside the database)"


def verify_chain(
    items: Iterable[StoredEvent | HashedEvents | Checkpoint],
    *,
    public_keys: Sequence[Ed25519PublicKey] = (),
    checkpoints: Iterable[Checkpoint] = (),
    start_seq: int = 1,
    start_hash: str | None = GENESIS_HASH,
    end_seq: int | None = None,
    linked: bool = True,
    allow_empty: bool = False,
) -> Verification:
    """Recompute the chain over ``items`` (events in stored order, checkpoints anywhere).

    ``checkpoints`` are kept apart from the log (a file the auditor holds); each must
    match the event at its seq. ``start_hash=None`` starts at the first event's
    ``prev_hash`` and ``end_seq`` ends the range (an export of ``--from``/``--to``);
    ``linked=False`` checks each event on its own (an export filtered by object).

    A whole trail without a single event is ``empty`` unless ``allow_empty`` (#13: a
    deleted trail must not pass as an intact one; a new installation says so explicitly).
    """
    state = _Chain(
        keys={key_fingerprint(k): k for k in public_keys},
        expected_seq=start_seq,
        prev_hash=start_hash,
        linked=linked,
    )
    stream = iter(items)
    try:
        for checkpoint in checkpoints:
            if checkpoint.seq >= start_seq and (end_seq is None or checkpoint.seq <= end_seq):
                state.expect(checkpoint, in_stream=False)
        for item in stream:
            if isinstance(item, HashedEvents):
                _check_hashed(state, item.links, stream)
            elif isinstance(item, Checkpoint):
                state.expect(item, in_stream=True)
            else:
                _check_event(state, item, stream)
        _check_end(state)
        whole = linked and start_seq == 1 and end_seq is None
        if whole and not state.events and allow_empty:
            state.notes.append("the audit trail has no events (allowed: a new installation)")
        elif whole and not state.events:
            raise _Stop(
                Problem(
                    "empty",
                    None,
                    "the audit trail has no events: nothing was ever recorded (a new "
                    "installation), or every event was deleted",
                )
            )
    except _Stop as stop:
        return _outcome(state, stop.problem)
    return _outcome(state, None)


def _check_hashed(state: _Chain, links: list[Link], rest: Iterator[Any]) -> None:
    """Events that follow on and link on, nothing pending among them: a few comparisons each.

    The first event, an unlinked export, a gap, a broken link or a pending checkpoint goes
    to ``_check_event`` (the rest of the run still ahead of it), then the loop goes on.
    """
    start, end = 0, len(links)
    while start < end:
        if state.linked and state.events and state.prev_hash is not None:
            first = expected = state.expected_seq
            prev = state.prev_hash
            stop = min(state.pending) if state.pending else expected + end
            for seq, prev_hash, digest in islice(links, start, None) if start else links:
                if seq != expected or prev_hash != prev or seq >= stop:
                    break
                expected += 1
                prev = digest
            if expected > first:
                state.events += expected - first
                state.expected_seq = expected
                state.prev_hash = state.last_hash = prev
                state.last_seq = expected - 1
                start += expected - first
                if start == end:
                    return
        event = _Hashed(*links[start])
        start += 1
        _check_event(state, event, _then(links, start, rest))


def _then(links: list[Link], start: int, rest: Iterator[Any]) -> Iterator[Any]:
    """The rest of a run, then the items after it (built only if the verifier reads on)."""
    yield HashedEvents(links[start:])
    yield from rest


def _check_event(state: _Chain, event: StoredEvent | _Hashed, rest: Iterator[Any]) -> None:
    seq = event.seq
    if state.linked and seq != state.expected_seq:
        raise _Stop(_out_of_place(state, seq, rest))
    if not state.linked and state.events and seq <= state.last_seq:
        raise _Stop(Problem("reordered", seq, f"#{seq} appears after #{state.last_seq}"))
    prev_hash = event.prev_hash
    if not event.matches():
        if state.linked and prev_hash != state.prev_hash and _links_later(state, rest):
            raise _Stop(
                Problem(
                    "reordered",
                    seq,
                    f"the event stored as #{seq} belongs elsewhere in the chain, and the one "
                    f"that follows #{seq - 1} comes later: events were swapped",
                )
            )
        raise _Stop(
            Problem(
                "modified",
                seq,
                "its content does not match its hash: it was changed after it was written",
            )
        )
    if state.linked and state.prev_hash is None:
        state.notes.append(f"the export starts at #{seq}; its link to #{seq - 1} is not checked")
    elif state.linked and prev_hash != state.prev_hash:
        if not state.events:
            raise _Stop(Problem("modified", seq, "it does not link to the start of the chain"))
        raise _Stop(
            Problem(
                "modified",
                seq - 1,
                f"#{seq} no longer links to it: #{seq - 1} was changed and its hash "
                f"recomputed (or the link of #{seq} was changed)",
            )
        )
    if not state.events:
        state.first_seq = seq
    state.events += 1
    state.expected_seq = seq + 1
    state.prev_hash = state.last_hash = event.hash
    state.last_seq = seq
    if state.pending:
        state.reached(seq, event.hash)


def _out_of_place(state: _Chain, seq: int, rest: Iterator[Any]) -> Problem:
    """Tell a deleted event from a moved one by reading on (constant memory)."""
    expected = state.expected_seq
    if seq < expected:
        return Problem("reordered", seq, f"#{seq} appears after #{expected - 1}")
    for event in _events(rest):
        if event.seq == expected:
            return Problem(
                "reordered", expected, f"#{expected} appears later, after #{seq}: events moved"
            )
    before = f"#{expected - 1}" if state.events else "the start"
    gone = f"#{expected}" if seq == expected + 1 else f"#{expected}..#{seq - 1}"
    return Problem("missing", expected, f"{gone} deleted: the log jumps from {before} to #{seq}")


def _links_later(state: _Chain, rest: Iterator[Any]) -> bool:
    """Whether the event that should follow the last verified one comes further on."""
    return any(event.prev_hash == state.prev_hash for event in _events(rest))


def _check_end(state: _Chain) -> None:
    if not state.pending:
        return
    last = max(state.pending)
    checkpoint, anchor = state.pending[last][0]
    ends, what = (
        (f"ends at #{state.last_seq}", "events were cut off its end")
        if state.events
        else ("is empty", "the whole trail was deleted")
    )
    raise _Stop(
        Problem(
            "truncated",
            state.expected_seq,
            f"the log {ends}, but the checkpoint made at {checkpoint.at}"
            f"{_KEPT if anchor else ''} covers #{last}: {what}",
        )
    )


def _outcome(state: _Chain, problem: Problem | None) -> Verification:
    return Verification(
        events=state.events,
        first_seq=state.first_seq,
        head_seq=state.last_seq,
        head_hash=state.last_hash or GENESIS_HASH,
        checkpoints=state.matched,
        problem=problem,
        notes=tuple(state.notes),
        anchors=state.anchors,
    )


# -- the JSONL export ------------------------------------------------------------------------

_EVENT_KEYS = frozenset(HASHED_FIELDS)
_DECODER = json.JSONDecoder()
#: Events a run hands over at most: few enough for constant memory, enough to be cheap.
_RUN = 1000


class _Malformed(Exception):
    """A line that is not an audit record; ``verify_export`` reports it as a problem."""

    def __init__(self, line: int, message: str, kind: ProblemKind = "malformed") -> None:
        super().__init__(message)
        self.problem = Problem(kind, None, f"line {line}: {message}")


class ExportReader:
    """Reads a JSONL export line by line: a header, events and checkpoints, an end record."""

    def __init__(self, lines: Iterable[bytes | str], *, fast: bool = True) -> None:
        self._lines = iter(lines)
        self._fast = fast
        self.header: dict[str, Any] = {}
        self.end: dict[str, Any] | None = None
        self.line = 0
        self.events = 0
        self.last_seq = 0

    def read_header(self) -> dict[str, Any]:
        for raw in self._lines:
            self.line += 1
            record = self._parse(raw)
            if record.get("kind") != "header" or record.get("format") != EXPORT_FORMAT:
                raise _Malformed(self.line, "not a Backoffice audit export (no header line)")
            if record.get("version") != 1:
                raise _Malformed(self.line, f"export version {record.get('version')!r} unknown")
            self.header = record
            return record
        raise _Malformed(1, "the file is empty")

    def items(self) -> Iterator[StoredEvent | HashedEvents | Checkpoint]:
        """Events (in runs where the fast route could hash them), checkpoints, the end record.

        A run is handed over before any line that takes the reference route, so a line
        that is no audit record is reported exactly when the reference reader would.
        """
        links: list[Link] = []
        decode, encode_into, sha256 = decode_canonical_event, CANONICAL.encode_into, hashlib.sha256
        canonical, unset, room = bytearray(1024), UNSET, _RUN
        fast_route = self._fast and self.end is None
        for raw in self._lines:  # self.line counts runs as they go out, the rest here
            if fast_route:
                try:
                    fast = decode(raw)  # seq >= 1 is checked here (CanonicalEvent)
                except NOT_FAST:
                    pass
                else:
                    digest = fast.hash
                    if fast.kind == "event" and digest is not unset:
                        fast.hash = fast.kind = unset
                        encode_into(fast, canonical)
                        if sha256(canonical).hexdigest() == digest:
                            links.append((fast.seq, fast.prev_hash, digest))
                            room -= 1
                            if not room:
                                yield self._run(links)
                                links, room = [], _RUN
                            continue
            if links:
                yield self._run(links)
                links, room = [], _RUN
            self.line += 1
            if self.end is not None:
                raise _Malformed(self.line, "a line after the end record")
            record = self._parse(raw)
            kind = record.pop("kind", None)
            if kind == "event":
                event = self._event(record)
                self.events += 1
                self.last_seq = event.seq
                yield event
            elif kind == "checkpoint":
                try:
                    yield Checkpoint.from_record(record)
                except ValueError as exc:
                    raise _Malformed(self.line, str(exc)) from None
            elif kind == "end":
                self.end = record
                fast_route = False  # every line after it is malformed
            else:
                raise _Malformed(self.line, f"unknown record kind {kind!r}")
        if links:
            yield self._run(links)

    def _run(self, links: list[Link]) -> HashedEvents:
        self.line += len(links)
        self.events += len(links)
        self.last_seq = links[-1][0]
        return HashedEvents(links)

    def check_end(self) -> Problem | None:
        """The end record guards against a file cut short (it is not signed: see checkpoints)."""
        if self.end is None:
            return Problem(
                "truncated", None, "the export has no end record: the file was cut short"
            )
        if self.end.get("events") != self.events or self.end.get("head_seq") != self.last_seq:
            return Problem(
                "truncated",
                None,
                f"the end record counts {self.end.get('events')} events up to "
                f"#{self.end.get('head_seq')}, but the file holds {self.events} up to "
                f"#{self.last_seq}: events were removed",
            )
        return None

    def _parse(self, raw: bytes | str) -> dict[str, Any]:
        try:
            record = _DECODER.decode(raw if isinstance(raw, str) else raw.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError is one too
            raise _Malformed(self.line, f"not JSON ({exc.args[0]})") from None
        if not isinstance(record, dict):
            raise _Malformed(self.line, "not a JSON object")
        return record

    def _event(self, record: dict[str, Any]) -> StoredEvent:
        """Shape only: a field of the wrong type changes the hash and is found as modified."""
        digest = record.pop("hash", None)
        if not isinstance(digest, str):
            raise _Malformed(self.line, "an event without its hash")
        if record.keys() != _EVENT_KEYS:
            missing = [name for name in HASHED_FIELDS if name not in record]
            if missing:
                raise _Malformed(self.line, f"an event without {', '.join(missing)}")
            extra = sorted(set(record) - _EVENT_KEYS)
            raise _Malformed(self.line, f"unexpected field(s) {', '.join(extra)}")
        seq = record["seq"]
        if type(seq) is not int or seq < 1:
            raise _Malformed(self.line, "seq is not a positive integer")
        return StoredEvent(record, digest)


def read_checkpoints(lines: Iterable[bytes | str], source: str) -> list[Checkpoint]:
    """Checkpoint records kept apart from the database (one JSON object a line)."""
    found = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or record.get("kind") != "checkpoint":
                raise ValueError("not a checkpoint record")
            found.append(Checkpoint.from_record(record))
        except ValueError as exc:
            raise ValueError(f"{source}:{number}: {exc}") from None
    return found


def verify_export(
    lines: Iterable[bytes | str],
    *,
    public_keys: Sequence[Ed25519PublicKey] = (),
    checkpoints: Iterable[Checkpoint] = (),
    allow_empty: bool = False,
    fast: bool = True,
) -> Verification:
    """Verify a JSONL export on its own: the chain, its checkpoints, its end record.

    ``fast=False`` reads every line the reference way (``json``, ``canonical_json``): the
    same verdict, several times slower; tests hold the two routes to each other.
    """
    reader = ExportReader(lines, fast=fast)
    try:
        header = reader.read_header()
        filtered = header.get("object") is not None
        from_seq, to_seq = header.get("from_seq", 1), header.get("to_seq")
        if not isinstance(from_seq, int) or from_seq < 1:
            raise _Malformed(reader.line, "from_seq is not a positive integer")
        if to_seq is not None and not isinstance(to_seq, int):
            raise _Malformed(reader.line, "to_seq is not an integer")
        outcome = verify_chain(
            reader.items(),
            public_keys=public_keys,
            checkpoints=checkpoints,
            start_seq=from_seq,
            start_hash=GENESIS_HASH if from_seq == 1 else None,
            end_seq=to_seq,
            linked=not filtered,
            allow_empty=allow_empty,
        )
    except _Malformed as exc:
        return Verification(0, 0, 0, GENESIS_HASH, 0, exc.problem)
    notes = outcome.notes
    if to_seq is not None:
        notes += (f"the export was asked to end at #{to_seq}; later events are not in it",)
    if filtered:
        notes += (
            f"the export holds only the events of {header['object']}: each event was checked "
            "against its hash, the links between them were not",
        )
    problem = outcome.problem or reader.check_end()
    return Verification(
        outcome.events,
        outcome.first_seq,
        outcome.head_seq,
        outcome.head_hash,
        outcome.checkpoints,
        problem,
        notes,
        outcome.anchors,
    )
