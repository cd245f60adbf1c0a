"""The audit chain: canonical serialisation and hashing of audit events.

Each event's ``hash`` is SHA-256 over the canonical JSON of the event including the
previous event's hash, so editing, deleting or reordering any event breaks every hash
after it. Canonical means: keys sorted, no whitespace, UTF-8, and values already reduced
to JSON types (``to_json_value``), so what is stored is byte for byte what was hashed.

``canonical_json`` (the standard library's encoder) defines those bytes. Verifying a
million events spends its time building them, so the verifiers take a second route
(#14): ``decode_json_value`` and ``CanonicalEvent`` read JSON text into the values the
trail holds, and ``CANONICAL`` (msgspec, sorted keys) writes exactly ``canonical_json``'s
bytes for them, several times faster. A float, which the trail never holds and which
msgspec would write differently (``1e16``, not ``1e+16``), is refused while reading, so
such a value always takes the reference route. tests/unit/test_audit_canonical.py proves
the two routes byte-identical over arbitrary JSON values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NoReturn

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "CANONICAL",
    "GENESIS_HASH",
    "NOT_FAST",
    "HASHED_FIELDS",
    "CanonicalEvent",
    "ChainedEvent",
    "canonical_bytes",
    "canonical_json",
    "decode_canonical_event",
    "decode_json_value",
    "event_hash",
    "fields_hash",
    "to_json_value",
]

GENESIS_HASH = "0" * 64

#: The fields the chain protects, in the order exports write them (hashing sorts keys).
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "on_behalf_of",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "request_id",
    "prev_hash",
)


def to_json_value(value: Any) -> Any:
    """Reduce a value to what JSON stores exactly: no floats, no dates, no Decimals."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_json_value(value.value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json_value(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"cannot put {type(value).__name__} into the audit trail")


@dataclass(frozen=True)
class ChainedEvent:
    """An audit event as hashed: exactly the fields the chain protects."""

    seq: int
    at: datetime
    actor: str
    on_behalf_of: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    reason: str
    request_id: str
    prev_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": to_json_value(self.at),
            "actor": self.actor,
            "on_behalf_of": self.on_behalf_of,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string for one value, on every machine."""
    return _CANONICAL.encode(value).encode("utf-8")


def canonical_bytes(event: ChainedEvent) -> bytes:
    return canonical_json(event.as_dict())


def event_hash(event: ChainedEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def fields_hash(fields: Mapping[str, Any]) -> str:
    """The hash of an event given as its ``HASHED_FIELDS``, already reduced to JSON values.

    This is what a verifier computes from a database row or an export line; it equals
    ``event_hash`` of the same event.
    """
    return hashlib.sha256(canonical_json(fields)).hexdigest()


# -- the fast route (#14) ---------------------------------------------------------------------


def _refuse_float(text: str) -> NoReturn:
    raise ValueError(f"{text}: a floating-point number, which the audit trail never holds")


class CanonicalEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An event's hashed fields as JSON text holds them, for hashing on the fast route.

    The fields are those of ``HASHED_FIELDS`` in sorted order (``CANONICAL`` writes them
    in this order), typed so that
    decoding an export line accepts only what the reference route reads the same way;
    ``after``/``before`` are JSON values without floats (``decode_json_value``). An export
    line also carries ``kind`` and ``hash``: they must be ``UNSET`` again before encoding,
    which leaves them out. (gc=False: a decoded event cannot be part of a reference cycle.)
    """

    action: str
    actor: str
    after: Any
    at: str
    before: Any
    object_id: str
    object_type: str
    on_behalf_of: str
    prev_hash: str
    reason: str
    request_id: str
    seq: Annotated[int, msgspec.Meta(ge=1)]  # checked while reading a line, as the reference
    hash: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET


#: Reading JSON text for the fast route raises ``ValueError`` (msgspec's errors are ones)
#: on a float, on text that is no JSON, on an unpaired surrogate and on an integer of
#: thousands of digits, and ``RecursionError`` on absurd nesting: the caller then takes
#: the reference route, which reads the same text with ``json``.
NOT_FAST = (ValueError, RecursionError)

#: ``decode_json_value(text)``: one JSON value as ``json.loads`` reads it (floats refused).
decode_json_value = msgspec.json.Decoder(float_hook=_refuse_float).decode

#: ``decode_canonical_event(line)``: an export line's event, with its ``kind`` and ``hash``.
decode_canonical_event = msgspec.json.Decoder(CanonicalEvent, float_hook=_refuse_float).decode

#: Writes what the two decoders read exactly as ``canonical_json`` does (``encode_into``
#: a reused ``bytearray`` saves an allocation per event). "deterministic" sorts the keys
#: of dicts and keeps a struct's fields in their order, which ``CanonicalEvent`` sorts.
CANONICAL = msgspec.json.Encoder(order="deterministic")
