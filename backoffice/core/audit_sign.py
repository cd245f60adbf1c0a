"""Signed checkpoints: an Ed25519 signature over the chain's head (seq, hash, time).

The hash chain shows that nothing inside the log was changed, but not that its end was
not cut off: whoever can delete the last events can also delete them without a trace in
the chain. A checkpoint signed with a key the database cannot reach closes that gap: a
log that ends before a signed checkpoint, or whose event at the checkpoint's seq has
another hash, was truncated or rewritten.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backoffice.core.audit import canonical_json

__all__ = [
    "CHECKPOINT_PURPOSE",
    "Checkpoint",
    "KeyFileInvalid",
    "checkpoint_message",
    "generate_private_key",
    "key_fingerprint",
    "load_private_key",
    "load_public_keys",
    "private_key_pem",
    "public_key_pem",
    "sign_checkpoint",
    "signature_is_valid",
]

#: Part of the signed message, so a checkpoint signature can never pass for anything else.
CHECKPOINT_PURPOSE = "backoffice-audit-checkpoint/1"


class KeyFileInvalid(ValueError):
    """A key file that cannot be read or is not an Ed25519 key (named after the file)."""


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at ``at``, signed by the key with fingerprint ``key``."""

    seq: int
    hash: str
    at: str
    key: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.at)

    def as_record(self) -> dict[str, Any]:
        """The JSON form in exports, checkpoint files and the ``checkpoint`` command's output."""
        return {
            "kind": "checkpoint",
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key": self.key,
            "signature": self.signature,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Checkpoint:
        """Read the JSON form; raise ``ValueError`` if a field is missing or of the wrong type."""
        seq = record.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("a checkpoint needs an integer seq")
        return cls(
            seq=seq,
            hash=_text(record, "hash"),
            at=_text(record, "at"),
            key=_text(record, "key"),
            signature=_text(record, "signature"),
        )


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise ValueError(f"a checkpoint needs a text {name}")
    return value


def checkpoint_message(seq: int, digest: str, at: str) -> bytes:
    return canonical_json({"purpose": CHECKPOINT_PURPOSE, "seq": seq, "hash": digest, "at": at})


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: names the key in every checkpoint it signed."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_checkpoint(private_key: Ed25519PrivateKey, seq: int, digest: str, at: str) -> Checkpoint:
    """Sign the event ``seq`` whose hash is ``digest``, as the head at time ``at``."""
    signature = private_key.sign(checkpoint_message(seq, digest, at))
    return Checkpoint(
        seq=seq,
        hash=digest,
        at=at,
        key=key_fingerprint(private_key.public_key()),
        signature=base64.b64encode(signature).decode("ascii"),
    )


def signature_is_valid(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, checkpoint.message())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileInvalid(f"{source}: not a PEM private key without password ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileInvalid(f"{source}: not an Ed25519 key")
    return key


def load_public_keys(pem: bytes, source: str) -> list[Ed25519PublicKey]:
    """Every public key in a PEM file (old keys stay to verify old checkpoints)."""
    keys: list[Ed25519PublicKey] = []
    marker = b"-----BEGIN PUBLIC KEY-----"
    blocks = [marker + part for part in pem.split(marker)[1:]]
    for block in blocks:
        try:
            key = serialization.load_pem_public_key(block)
        except ValueError as exc:
            raise KeyFileInvalid(f"{source}: not a PEM public key ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileInvalid(f"{source}: not an Ed25519 public key")
        keys.append(key)
    if not keys:
        raise KeyFileInvalid(f"{source}: no PEM public key in the file")
    return keys
