"""#18: pure decisions of mail and webhooks: signatures, back-off, when a reminder is due.

Standard Webhooks (https://www.standardwebhooks.com/): the signed content is
``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature`` holds space-separated
``v1,<base64 HMAC-SHA256>`` entries, one per secret in use (two while a secret rotates);
secrets are written ``whsec_<base64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

__all__ = [
    "MAX_ATTEMPTS",
    "TOLERANCE",
    "backoff",
    "new_secret",
    "next_digest",
    "sign",
    "signature_header",
    "verify",
    "webhook_headers",
]

#: a webhook delivery failing this often in a row disables its subscription (with an alert)
MAX_ATTEMPTS = 8
#: how old a timestamp a receiver accepts (the spec's replay window)
TOLERANCE = timedelta(minutes=5)
_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, as the spec writes them."""
    return _PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of a message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_use)


def webhook_headers(
    secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """What a receiver does: a signature of ours among those sent, a timestamp not too old."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, stamp = lowered["webhook-id"], int(lowered["webhook-timestamp"])
        sent = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > TOLERANCE.total_seconds():
        return False
    expected = sign(secret, msg_id, stamp, body)
    return any(hmac.compare_digest(expected, s) for s in sent)


def backoff(attempt: int, base: timedelta = timedelta(seconds=5)) -> timedelta:
    """The wait before try ``attempt + 1``: doubling from ``base``, at most six hours."""
    wait: timedelta = base * (2 ** min(max(attempt - 1, 0), 20))
    return min(wait, timedelta(hours=6))


def next_digest(now: datetime, hour: int) -> datetime:
    """The next time the daily digest leaves: ``hour`` o'clock local time, today or tomorrow."""
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return due if due > now else due + timedelta(days=1)
