"""Writing the audit log as JSONL (verifiable), CSV (for spreadsheets) or OCEL 2.0 JSON.

The writers take iterators and write as they read, so an export of millions of events
needs the memory of one event (OCEL: of the set of distinct objects, which its format
lists in full before the events).

JSONL, the format ``audit verify --export`` reads::

    {"kind":"header","format":"backoffice-audit","version":1,"from_seq":1,"to_seq":null,...}
    {"kind":"event","seq":1,"at":"…","actor":"…",…,"prev_hash":"…","hash":"…"}
    {"kind":"checkpoint","seq":1,"hash":"…","at":"…","key":"…","signature":"…"}
    …
    {"kind":"end","events":N,"head_seq":…,"head_hash":"…"}

Each checkpoint follows the event it signs, so a verifier meets it in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable
from typing import IO, Any

from backoffice.core import csvsafe
from backoffice.core.audit import GENESIS_HASH, HASHED_FIELDS, canonical_json
from backoffice.core.audit_sign import Checkpoint
from backoffice.core.audit_verify import EXPORT_FORMAT, StoredEvent, interleave

__all__ = [
    "CSV_COLUMNS",
    "Chunks",
    "csv_chunks",
    "drain",
    "jsonl_chunks",
    "ocel_chunks",
    "write_csv",
    "write_jsonl",
    "write_ocel",
]

#: Text pieces of an export, in order; the generator returns how many events it wrote.
Chunks = Generator[str, None, int]

CSV_COLUMNS = (*HASHED_FIELDS, "hash")


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def drain(out: IO[str], chunks: Chunks) -> int:
    """Write every chunk to ``out``; the number of events written."""
    while True:
        try:
            out.write(next(chunks))
        except StopIteration as done:
            return int(done.value)


def write_jsonl(
    out: IO[str],
    events: Iterable[StoredEvent],
    checkpoints: Iterable[Checkpoint],
    *,
    header: dict[str, Any],
) -> int:
    """Header, events with each checkpoint after its event, end record; returns the count."""
    return drain(out, jsonl_chunks(events, checkpoints, header=header))


def jsonl_chunks(
    events: Iterable[StoredEvent],
    checkpoints: Iterable[Checkpoint],
    *,
    header: dict[str, Any],
) -> Chunks:
    """The lines of a JSONL export as they are made (the web download streams them).

    Checkpoints past the last event are written too: they show the log was cut short.
    """
    yield _line({"kind": "header", "format": EXPORT_FORMAT, "version": 1, **header})
    count, head_seq, head_hash = 0, 0, GENESIS_HASH
    for item in interleave(events, checkpoints):
        yield _line(item.as_record())
        if isinstance(item, StoredEvent):
            count, head_seq, head_hash = count + 1, item.seq, item.hash
    yield _line({"kind": "end", "events": count, "head_seq": head_seq, "head_hash": head_hash})
    return count


class _Echo:
    """A file that hands back what is written to it: each CSV row is yielded as it is made."""

    def write(self, text: str) -> str:
        return text


def write_csv(out: IO[str], events: Iterable[StoredEvent]) -> int:
    """One row an event; before/after as canonical JSON. For reading, not for verifying."""
    return drain(out, csv_chunks(events))


def csv_chunks(events: Iterable[StoredEvent]) -> Chunks:
    """The rows of the CSV export as they are made."""
    writer = csvsafe.writer(_Echo())
    yield str(writer.writerow(CSV_COLUMNS))
    count = 0
    for event in events:
        row = [_cell(event.fields[name]) for name in HASHED_FIELDS]
        yield str(writer.writerow([*row, event.hash]))
        count += 1
    return count


def _cell(value: Any) -> object:
    """Text as it is, numbers as numbers, anything else as its canonical JSON; the writer
    defuses formulas (``core.csvsafe``)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return canonical_json(value).decode("utf-8")


# -- OCEL 2.0 ---------------------------------------------------------------------------------

#: Keys in an event's before/after that name another object the event concerns.
_RELATED_KEYS = {
    "person": "person",
    "user": "person",
    "maker": "person",
    "checker": "person",
    "unit": "unit",
    "case": "case",
    "case_id": "case",
}

#: Objects named ``person/unit/...`` by the organisation app: the people and units they join.
_COMPOSITE_IDS = {
    "membership": ("person", "unit"),
    "responsibility": ("person", "unit"),
    "assignment": ("person", "role"),
}

_EVENT_ATTRIBUTES = (
    ("seq", "integer"),
    ("actor", "string"),
    ("on_behalf_of", "string"),
    ("reason", "string"),
    ("request_id", "string"),
    ("before", "string"),
    ("after", "string"),
    ("prev_hash", "string"),
    ("hash", "string"),
)


def _person(name: str) -> tuple[str, str]:
    """People by username; ``cli:root``-style actors are systems, not people."""
    return ("system" if ":" in name else "person", name)


def _relationships(event: StoredEvent) -> list[tuple[tuple[str, str], str]]:
    """``((object type, id), qualifier)`` for every object an event concerns, first wins."""
    fields = event.fields
    related = [((fields["object_type"], fields["object_id"]), "object")]
    related.append((_person(fields["actor"]), "actor"))
    if fields["on_behalf_of"]:
        related.append((_person(fields["on_behalf_of"]), "on-behalf-of"))
    parts = str(fields["object_id"]).split("/")
    for object_type, part in zip(
        _COMPOSITE_IDS.get(fields["object_type"], ()), parts, strict=False
    ):
        related.append(((object_type, part), object_type))
    for state in (fields["after"], fields["before"]):
        if not isinstance(state, dict):
            continue
        for key, object_type in _RELATED_KEYS.items():
            value = state.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                related.append(((object_type, str(value)), key))
    seen: set[tuple[str, str]] = set()
    unique = []
    for obj, qualifier in related:
        if obj not in seen:
            seen.add(obj)
            unique.append((obj, qualifier))
    return unique


def _oid(obj: tuple[str, str]) -> str:
    return f"{obj[0]}:{obj[1]}"


def write_ocel(out: IO[str], events: Callable[[], Iterable[StoredEvent]]) -> int:
    """OCEL 2.0 JSON: every action an event type; cases, people, units and the objects the
    events name as objects. Reads ``events()`` twice: objects first, then the events."""
    return drain(out, ocel_chunks(events))


def ocel_chunks(events: Callable[[], Iterable[StoredEvent]]) -> Chunks:
    """The pieces of the OCEL 2.0 export as they are made (see :func:`write_ocel`)."""
    objects: dict[tuple[str, str], None] = {}
    actions: dict[str, None] = {}
    for event in events():
        actions.setdefault(event.fields["action"], None)
        for obj, _ in _relationships(event):
            objects.setdefault(obj, None)
    types = sorted({obj[0] for obj in objects})
    attributes = [{"name": name, "type": kind} for name, kind in _EVENT_ATTRIBUTES]
    yield '{"objectTypes":'
    yield json.dumps([{"name": name, "attributes": []} for name in types])
    yield ',"eventTypes":'
    yield json.dumps([{"name": a, "attributes": attributes} for a in sorted(actions)])
    yield ',"objects":['
    for index, obj in enumerate(sorted(objects)):
        item = {"id": _oid(obj), "type": obj[0], "attributes": [], "relationships": []}
        yield ("," if index else "") + json.dumps(item, ensure_ascii=False)
    del objects
    yield '],"events":['
    count = 0
    for event in events():
        fields = event.fields
        values = {**fields, "hash": event.hash}
        record: dict[str, Any] = {
            "id": f"e{event.seq}",
            "type": fields["action"],
            "time": fields["at"],
            "attributes": [
                {"name": name, "value": _attribute(values[name])} for name, _ in _EVENT_ATTRIBUTES
            ],
            "relationships": [
                {"objectId": _oid(obj), "qualifier": qualifier}
                for obj, qualifier in _relationships(event)
            ],
        }
        yield ("," if count else "") + json.dumps(record, ensure_ascii=False)
        count += 1
    yield "]}\n"
    return count


def _attribute(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    return canonical_json(value).decode("utf-8")
