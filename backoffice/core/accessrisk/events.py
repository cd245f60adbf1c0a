"""Event logs for actual conflicts (issue #15 part 3): who did what, to which object, when.

Two formats: CSV with the columns ``actor,action,object,time`` (from any system, one object
per row, which may be empty) and OCEL 2.0 JSON (Backoffice's own ``backoffice audit export
--format ocel``, or a process-mining tool's), where an event may concern several objects.

An action counts as a business function of the rule set in two ways: an action that is a
permission of ``functions.csv`` performs that permission's functions (an SAP transaction
code, ``payment.release``), and the folder's ``actions.csv`` (``action,function_id``) maps
any other action name — a Backoffice audit action, another system's verb — to functions.
Actions that map to no function are counted and otherwise ignored.

Every actor must be a user of ``users.csv``: the event log and the identity export must
agree, so nobody escapes the check by being spelled differently. Times must be ISO 8601
with a zone (``2025-03-01T10:00:00Z``, ``…+01:00``); they are kept as microseconds UTC.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.core.accessrisk.csvinput import (
    STRING,
    TIME,
    CsvFile,
    Ids,
    Index,
    key,
    lookup,
    optional,
)
from backoffice.core.accessrisk.errors import InputError
from backoffice.core.accessrisk.rules import distinct

__all__ = [
    "ActionMap",
    "EventLog",
    "load_action_map",
    "merge_logs",
    "read_event_parts",
    "read_events",
]

#: An ISO 8601 time with a zone, as Arrow parses it (fractions of a second allowed).
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
_TIME_TYPE = pa.timestamp("us", tz="UTC")
_TIME_HINT = "is not an ISO 8601 time with a zone (e.g. 2025-03-01T10:00:00Z)"
#: Rows checked at a time when looking for the one time Arrow refused.
_PROBE_ROWS = 65536
#: Pieces of a CSV log read side by side: twice the cores, so that the piece read last
#: is short and no core waits long for it (4 took 0.1 s less than 2 on ``large``).
_PIECES = 4


@dataclass(frozen=True, eq=False)
class ActionMap:
    """Distinct action names and the functions each performs (compressed sparse rows)."""

    actions: Ids
    ptr: npt.NDArray[np.int64]  # functions of action a: function[ptr[a]:ptr[a+1]]
    function: Index

    @cached_property
    def codes(self) -> Index:
        """Per action (and last, an action not in the map) the code of an event: the
        function it performs, -1 for none, ``-2 - action`` for an action of several."""
        per_action = np.diff(self.ptr)
        codes = np.full(len(per_action) + 1, -1, dtype=np.int32)
        one = np.flatnonzero(per_action == 1)
        codes[one] = self.function[self.ptr[one]]
        more = np.flatnonzero(per_action > 1)
        codes[more] = -2 - more
        return codes

    @cached_property
    def read_ptr(self) -> npt.NDArray[np.int64]:
        """``ptr`` with one more action, not in the map, that performs none (the C reader's
        form of :func:`~backoffice.core.accessrisk.csvinput.optional`)."""
        return np.append(self.ptr, self.ptr[-1])


@dataclass(frozen=True, eq=False)
class EventLog:
    """One row per (event, function performed, object concerned), as dense indices;
    ``function`` is -1 in the row of an event that performs no function.

    Objects stay strings in ``object_column`` (one per row of the file read, '' for none)
    until the few rows that matter are known: ``source`` is each row's place there (None:
    the same place, the log's rows are the file's).
    ``events`` counts the events read, ``mapped`` those whose action performs a function.
    """

    user: Index
    function: Index
    time: npt.NDArray[np.int64]  # microseconds since 1970-01-01 UTC
    source: npt.NDArray[np.int64] | None  # None: row i is the i-th of object_column
    object_column: pa.ChunkedArray
    events: int
    mapped: int


def load_action_map(folder: Path, function_ids: Ids, mapping: Path | None = None) -> ActionMap:
    """Permissions of ``functions.csv`` plus ``actions.csv`` (or ``mapping``) as one map;
    functions numbered as in ``function_ids`` (the rules' order: ``read_function_ids``).

    ``actions.csv`` is optional in the folder; a function it names must be in
    ``functions.csv``, else it is an error at its line.
    """
    functions = CsvFile(folder, "functions")
    table = functions.read("function_id", "permission")
    names = [table["permission"]]
    found = [lookup(functions, "function_id", table["function_id"], function_ids)]
    file = CsvFile(folder, "actions", mapping)
    if mapping is not None or file.path.exists():
        m_table = file.read("action", "function_id")
        names.append(m_table["action"])
        found.append(lookup(file, "function_id", m_table["function_id"], function_ids))
    action = pa.chunked_array([c for column in names for c in column.chunks], pa.string())
    function = np.concatenate(found)
    names_seen = pc.unique(action)
    index = Ids(names_seen, "").find(action)
    width = max(len(function_ids), 1)
    keys = distinct(index.astype(np.int64) * width + function)
    ptr = np.zeros(len(names_seen) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // width, minlength=len(names_seen)), out=ptr[1:])
    return ActionMap(Ids(names_seen, ""), ptr, (keys % width).astype(np.int32))


def read_events(
    path: Path, users: Ids, actions: ActionMap, *, people_only: bool = False
) -> EventLog:
    """Read a CSV or OCEL 2.0 event log (by its content: JSON starts with ``{``).

    An actor who is nobody in ``users.csv`` is bad input, unless ``people_only``: then the
    event is left out. The live trail needs that: it holds system actors (setup, a
    benchmark) and the names failed logins were tried with, who are no one."""
    return merge_logs(read_event_parts(path, users, actions, people_only=people_only))


def merge_logs(logs: Sequence[EventLog]) -> EventLog:
    """Several logs as one; an object id is the same object in every log."""
    if len(logs) == 1:
        return logs[0]
    offsets = np.cumsum([0] + [len(log.object_column) for log in logs[:-1]]).tolist()

    def joined(name: str) -> npt.NDArray[Any]:
        return np.concatenate([getattr(log, name) for log in logs])

    return EventLog(
        user=joined("user"),
        function=joined("function"),
        time=joined("time"),
        source=np.concatenate(
            [_sources(log) + offset for log, offset in zip(logs, offsets, strict=False)]
        ),
        object_column=pa.chunked_array(
            [chunk for log in logs for chunk in log.object_column.chunks], pa.string()
        ),
        events=sum(log.events for log in logs),
        mapped=sum(log.mapped for log in logs),
    )


def _sources(log: EventLog) -> npt.NDArray[np.int64]:
    return np.arange(len(log.user), dtype=np.int64) if log.source is None else log.source


def read_event_parts(
    path: Path, users: Ids, actions: ActionMap, *, people_only: bool = False
) -> list[EventLog]:
    """:func:`read_events`, as the parts it was read in (a CSV log: one per piece), each
    with a part of its own for the further functions of actions that perform several.

    Each block's strings are let go once its actors, actions and times are numbers, so
    the log is never held as text: less memory, and what is converted is still in cache.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(64).lstrip()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc.strerror}") from None
    if head.startswith(b"{"):
        return _read_ocel(path, users, actions, people_only)
    return _read_csv(path, users, actions)


def _read_csv(path: Path, users: Ids, actions: ActionMap) -> list[EventLog]:
    file = CsvFile(path.parent, "events", path)
    pieces = file.pieces(max(_PIECES, os.path.getsize(path) >> 30))  # ~1 GiB at most each
    fields = {
        "actor": key(users),
        "action": optional(actions.actions, actions.read_ptr, actions.function),
        "object": STRING,
        "time": TIME,
    }

    def read(piece: tuple[int, int]) -> list[EventLog] | None:
        """A piece's parts, or None if it is not in the common form."""
        block = file.read_common(fields, piece)
        if block is None:
            return None
        objects = pa.chunked_array([block["object"]])
        time, further = block["time"], block["action+"]  # the reader gave first functions
        rows = further[:, 0].astype(np.int64)
        function = np.ascontiguousarray(further[:, 1])
        return _parts(block["actor"], block["action"], time, objects, len(time), rows, function)

    with ThreadPoolExecutor(_PIECES) as pool:  # the C reader and numpy let go of the GIL
        common = list(pool.map(read, pieces))
    if all(parts is not None for parts in common):
        return [part for parts in common if parts is not None for part in parts]
    return _read_arrow(file, pieces, users, actions)


def _read_arrow(
    file: CsvFile, pieces: list[tuple[int, int]], users: Ids, actions: ActionMap
) -> list[EventLog]:
    """Any CSV log, read by Arrow: the uncommon forms, and every error with its line."""

    def read(piece: tuple[int, int]) -> _Piece:
        """The parts of one piece read by Arrow, which checks every line."""
        parts: list[EventLog] = []
        rows, missing_time = 0, -1
        types = {"time": _TIME_TYPE}
        for batch in file.batches("actor", "action", "object", "time", types=types, piece=piece):
            time_column = batch.column("time")
            if time_column.null_count and missing_time < 0:
                nulls = pc.is_null(time_column).to_numpy(zero_copy_only=False)
                missing_time = rows + int(np.flatnonzero(nulls)[0])
            user = users.find(pa.chunked_array([batch.column("actor")]))
            action = actions.actions.find(pa.chunked_array([batch.column("action")]))
            time = _micros(time_column) if not time_column.null_count else _none(len(batch))
            objects = pa.chunked_array([batch.column("object")])
            code = actions.codes[action]
            parts.extend(_expand(actions, user, code, time, objects, batch.num_rows))
            rows += batch.num_rows
        return _Piece(parts, rows, missing_time)

    try:  # times are parsed while reading; only a bad one makes us read them as text
        with ThreadPoolExecutor(_PIECES) as pool:  # Arrow and numpy let go of the GIL
            read_pieces = list(pool.map(read, pieces))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        text = file.read("time")["time"]
        _times(text, lambda row, value: file.error(row, f"time {value!r} {_TIME_HINT}"))
        raise
    parts = [part for piece in read_pieces for part in piece.parts]
    missing_time, rows_before = -1, 0  # the first row without a time, in the whole file
    for piece in read_pieces:
        if piece.missing_time >= 0 and missing_time < 0:
            missing_time = rows_before + piece.missing_time
        rows_before += piece.rows
    unknown = any(bool((part.user < 0).any()) for part in parts)
    # an empty actor is missing, not unknown (and not found, unless a user's id is empty);
    # the checks come in the order they always did: empty actors, times, unknown actors
    actor = None
    if unknown or pc.any(pc.equal(users.ids, "")).as_py():
        actor = file.read("actor")["actor"]  # again, as text: only to say which and where
        _require(file, actor, "actor")
    if missing_time >= 0:
        raise file.error(missing_time, "missing time")
    if actor is not None:
        lookup(file, "actor", actor, users)
    return parts


@dataclass(frozen=True)
class _Piece:
    parts: list[EventLog]
    rows: int
    missing_time: int  # the piece's first row without a time, else -1


def _none(rows: int) -> npt.NDArray[np.int64]:
    return np.zeros(rows, dtype=np.int64)


def _micros(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """The times' 64-bit values, read from Arrow's buffers (no nulls: checked before)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [np.frombuffer(c.buffers()[1], np.int64, len(c), c.offset * 8) for c in chunks]
    if len(parts) == 1:
        return parts[0]  # a view of the block's times (read-only): nothing copied
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _require(file: CsvFile, column: pa.ChunkedArray, name: str) -> None:
    """An empty actor is an error at its line."""
    empty = pc.equal(pc.utf8_length(column), 0)
    if pc.any(empty).as_py():
        row = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
        raise file.error(row, f"missing {name}")


def _times(column: pa.ChunkedArray, error: Any) -> npt.NDArray[np.int64]:
    """Microseconds UTC; the first value that is no ISO time with a zone is an error."""
    try:
        parsed = pc.cast(column, _TIME_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        bad = pc.invert(pc.match_substring_regex(flat, _ISO_TIME))
        rows = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
        if rows.size:
            row = int(rows[0])
            raise error(row, flat[row].as_py()) from None
        for start in range(0, len(flat), _PROBE_ROWS):  # a well-formed but impossible date
            piece = flat.slice(start, _PROBE_ROWS)
            try:
                pc.cast(piece, _TIME_TYPE)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                for offset in range(len(piece)):
                    try:
                        pc.cast(piece.slice(offset, 1), _TIME_TYPE)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        raise error(start + offset, piece[offset].as_py()) from None
        raise
    return _micros(parsed)


def _expand(
    actions: ActionMap,
    user: Index,
    code: Index,
    time: npt.NDArray[np.int64],
    objects: pa.ChunkedArray,
    events: int,
) -> list[EventLog]:
    """:func:`_parts` from each event's :attr:`ActionMap.codes` (Arrow's and the OCEL
    reader's way; the C reader finds the further functions while it reads): the code
    becomes the function column in place, and only the events of actions of several
    functions are looked at again."""
    function = code
    extra = np.flatnonzero(code <= -2)
    rows, further = np.zeros(0, np.int64), np.zeros(0, np.int32)
    if len(extra):
        action = -2 - code[extra].astype(np.int64)
        if not function.flags.writeable:
            function = function.copy()
        function[extra] = actions.function[actions.ptr[action]]
        counts = actions.ptr[action + 1] - actions.ptr[action] - 1
        rows = np.repeat(extra, counts)
        within = np.arange(len(rows), dtype=np.int64)
        within -= np.repeat(np.cumsum(counts) - counts, counts)
        within += 1 + np.repeat(actions.ptr[action], counts)
        further = actions.function[within]
    return _parts(user, function, time, objects, events, rows, further)


def _parts(
    user: Index,
    function: Index,
    time: npt.NDArray[np.int64],
    objects: pa.ChunkedArray,
    events: int,
    rows: npt.NDArray[np.int64],
    further: Index,
) -> list[EventLog]:
    """The events as read, each with its first function (-1 for an event that performs
    none: the rows stay in place, dropping them costs more than keeping), and a second
    part with a row per further function (``rows``: the events', ``further``: the
    functions) of the few events of actions that perform more. The columns as read are
    kept, not copied, and the rows are their objects' places: nothing is written for the
    millions of rows."""
    mapped = int(np.count_nonzero(function >= 0))
    main = EventLog(user, function, time, None, objects, events, mapped)
    if not len(rows):
        return [main]
    return [main, EventLog(user[rows], further, time[rows], rows, objects, 0, 0)]


# -- OCEL 2.0 ----------------------------------------------------------------------------------

#: Relationship qualifiers that name who acted, not what was acted on.
_PEOPLE = {"actor", "on-behalf-of"}


def _read_ocel(path: Path, users: Ids, actions: ActionMap, people_only: bool) -> list[EventLog]:
    """OCEL 2.0 JSON: ``events[]`` with ``id``, ``type`` (the action), ``time`` and
    ``relationships``; the actor is the ``actor`` attribute, else the object related as
    ``actor`` (``person:ann`` is ann). Every other related object is an object acted on."""
    label = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        document = json.loads(text)
    except UnicodeDecodeError as exc:
        raise InputError(label, raw[: exc.start].count(b"\n") + 1, "not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(label, exc.lineno, f"not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise InputError(label, 1, "not an OCEL 2.0 log: no 'events' list")
    locator = _Locator(text)
    actor_col: list[str] = []
    action_col: list[str] = []
    time_col: list[str] = []
    object_col: list[str] = []
    first_row: list[int] = []  # per event read, its first row
    numbers: list[int] = []  # per event read, its place in the log
    for number, event in enumerate(document["events"]):
        where = locator.line(event.get("id") if isinstance(event, dict) else None)

        def fail(message: str, where: int = where, number: int = number) -> InputError:
            return InputError(label, where, f"event {number + 1}: {message}")

        if not isinstance(event, dict):
            raise fail("not an object")
        for name in ("id", "type", "time"):
            if not isinstance(event.get(name), str) or not event[name]:
                raise fail(f"missing {name}")
        actor, related = _actor_and_objects(event, fail)
        if actor is None:  # a system (Backoffice's ``cli:root``) holds no roles
            continue
        numbers.append(number)
        first_row.append(len(actor_col))
        for obj in related or [""]:
            actor_col.append(actor)
            action_col.append(event["type"])
            time_col.append(event["time"])
            object_col.append(obj)
    first_row.append(len(actor_col))
    events = len(document["events"])
    row_event = np.repeat(np.array(numbers, dtype=np.int64), np.diff(first_row))

    def line_of(row: int) -> int:
        event = document["events"][int(row_event[row])]
        return locator.line(event.get("id"))

    actor_arr = pa.chunked_array([pa.array(actor_col, pa.string())])
    user = users.find(actor_arr)
    unknown = np.flatnonzero(user < 0)
    if unknown.size and people_only:
        kept = np.flatnonzero(user >= 0)
        user, row_event = user[kept], row_event[kept]
        time_col = [time_col[i] for i in kept]
        action_col = [action_col[i] for i in kept]
        object_col = [object_col[i] for i in kept]
    elif unknown.size:
        row = int(unknown[0])
        raise InputError(
            label,
            line_of(row),
            f"event {int(row_event[row]) + 1}: unknown actor {actor_col[row]!r} "
            f"(not in {users.file}); {len(unknown)} rows with unknown actors in all",
        )

    def time_error(row: int, value: str) -> InputError:
        return InputError(
            label, line_of(row), f"event {int(row_event[row]) + 1}: time {value!r} {_TIME_HINT}"
        )

    time = _times(pa.chunked_array([pa.array(time_col, pa.string())]), time_error)
    action = actions.actions.find(pa.chunked_array([pa.array(action_col, pa.string())]))
    objects = pa.chunked_array([pa.array(object_col, pa.string())])
    main, *further = _expand(actions, user, actions.codes[action], time, objects, events)
    mapped = len(np.unique(row_event[action >= 0])) if len(action) else 0  # events, not rows
    return [replace(main, mapped=mapped), *further]


def _actor_and_objects(event: dict[str, Any], fail: Any) -> tuple[str | None, list[str]]:
    """The person who acted and the objects acted on; None for an event of a system (its
    actor related as a ``system:`` object, as Backoffice's export marks ``cli:root``)."""
    actor = ""
    for attribute in event.get("attributes") or []:
        if isinstance(attribute, dict) and attribute.get("name") == "actor":
            actor = str(attribute.get("value") or "")
    related: list[str] = []
    relationships = event.get("relationships") or []
    if not isinstance(relationships, list):
        raise fail("relationships is not a list")
    for relation in relationships:
        if not isinstance(relation, dict) or not isinstance(relation.get("objectId"), str):
            raise fail("a relationship without objectId")
        object_id = relation["objectId"]
        if relation.get("qualifier") in _PEOPLE:
            if relation.get("qualifier") == "actor" and object_id.startswith("system:"):
                return None, []
            if relation.get("qualifier") == "actor" and not actor:
                actor = object_id.removeprefix("person:")
            continue
        related.append(object_id)
    if not actor:
        raise fail("missing actor (an 'actor' attribute or a relationship qualified 'actor')")
    return actor, related


class _Locator:
    """The line an event's ``"id": "…"`` is on; 1 for a log written on one line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.events_at = max(text.find('"events"'), 0)
        self.breaks: npt.NDArray[np.int64] | None = None

    def line(self, event_id: object) -> int:
        if not isinstance(event_id, str):
            return 1
        match = re.compile(r'"id"\s*:\s*' + re.escape(json.dumps(event_id))).search(
            self.text, self.events_at
        )
        if match is None:
            return 1
        if self.breaks is None:
            self.breaks = np.frombuffer(self.text.encode("utf-32-le"), np.uint32)
            self.breaks = np.flatnonzero(self.breaks == 10).astype(np.int64)
        return int(np.searchsorted(self.breaks, match.start())) + 1
