"""The checkpoint signing key on disk: created once with mode 0600, never in the database.

Its path is ``settings.AUDIT_SIGNING_KEY`` (``BACKOFFICE_AUDIT_KEY``). Whoever can read it
can sign checkpoints, so it should live where the database's administrators cannot.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from backoffice.core.audit_sign import (
    KeyFileInvalid,
    generate_private_key,
    load_private_key,
    private_key_pem,
)

__all__ = ["configured_public_keys", "do_generate_signing_key", "load_signing_key", "key_path"]


def key_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY)


def do_generate_signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    """Write a new key; refuse to overwrite one (old checkpoints need the old public key)."""
    path = path or key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(key))
    return key


def load_signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The private key; refused if others than its owner may read it (as ssh does)."""
    path = path or key_path()
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileInvalid(
            f"{path}: cannot read the signing key ({exc.strerror}); "
            "create one with `backoffice audit keygen`"
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileInvalid(
            f"{path}: the signing key may be read by others (mode {stat.S_IMODE(mode):o}); "
            f"run chmod 600 {path}"
        )
    return load_private_key(pem, str(path))


def configured_public_keys() -> list[Ed25519PublicKey]:
    """The public half of the configured key, if there is one (for verifying on the server)."""
    try:
        return [load_signing_key().public_key()]
    except KeyFileInvalid:
        return []
