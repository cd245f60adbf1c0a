"""What lives outside the database: the signing key and the anchor file.

The key's path is ``settings.AUDIT_SIGNING_KEY`` (``BACKOFFICE_AUDIT_KEY``). Whoever can
read it can sign checkpoints, so it should live where the database's administrators
cannot. The anchor file (#13, ``audit checkpoint --to FILE``) keeps a copy of every
checkpoint where whoever rewrites the database cannot reach it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from backoffice.core.audit_sign import (
    Checkpoint,
    KeyFileInvalid,
    generate_private_key,
    load_private_key,
    private_key_pem,
)

__all__ = [
    "anchor_line",
    "append_anchor",
    "configured_public_keys",
    "do_generate_signing_key",
    "key_path",
    "load_signing_key",
]


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


def anchor_line(checkpoint: Checkpoint) -> str:
    """A checkpoint as one JSON line: what ``verify --checkpoints FILE`` reads back."""
    return json.dumps(checkpoint.as_record(), separators=(",", ":"))


def append_anchor(path: Path, checkpoint: Checkpoint) -> bool:
    """Append ``checkpoint`` to the anchor file, on disk before returning (fsync).

    False when it already is the file's last line: an idle schedule does not grow the file,
    and a round whose append failed is made good by the next one.
    """
    line = anchor_line(checkpoint)
    tail = _tail(path)
    if tail is not None and tail.rstrip(b"\n").rsplit(b"\n", 1)[-1] == line.encode():
        return False
    # A line torn by a crash stays visible (verify names it) but does not swallow this one.
    data = (b"\n" if tail and not tail.endswith(b"\n") else b"") + line.encode() + b"\n"
    created = tail is None
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created and os.name == "posix":
        # The new file's name must survive a crash as well as its content.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return True


def _tail(path: Path, size: int = 4096) -> bytes | None:
    """The file's last bytes; None if there is no file, empty if it may only be appended to."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read()
    except FileNotFoundError:
        return None
    except PermissionError:
        return b""
