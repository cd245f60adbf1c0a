"""The audit chain: canonical serialisation and hashing of audit events.

Each event's ``hash`` is SHA-256 over the canonical JSON of the event including the
previous event's hash, so editing, deleting or reordering any event breaks every hash
after it. Canonical means: keys sorted, no whitespace, UTF-8, and values already reduced
to JSON types (``to_json_value``), so what is stored is byte for byte what was hashed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "ChainedEvent",
    "canonical_bytes",
    "canonical_json",
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
