"""``backoffice audit verify``: the part that needs no Django and no database.

An auditor verifies an export on their own machine with only the export and the public
key: ``backoffice audit verify --export FILE --pubkey FILE``. The management command
(``backoffice.audit``) reuses the arguments and the report for verifying the database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backoffice.core.audit_sign import Checkpoint, KeyFileInvalid, load_public_keys
from backoffice.core.audit_verify import Verification, read_checkpoints, verify_export

__all__ = [
    "VerifyInputError",
    "add_verify_arguments",
    "audit_verify_export",
    "load_checkpoint_files",
    "load_key_files",
    "report",
    "verify_export_file",
    "wants_export",
]


class VerifyInputError(Exception):
    """A key, checkpoint or export file that cannot be used (exit status 2)."""


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export", metavar="FILE", help="verify this JSONL export, not the DB")
    parser.add_argument(
        "--pubkey",
        metavar="FILE",
        action="append",
        default=[],
        help="public key(s) that signed the checkpoints (PEM; repeat for older keys)",
    )
    parser.add_argument(
        "--checkpoints",
        metavar="FILE",
        action="append",
        default=[],
        help="anchors: checkpoints kept outside the database (`audit checkpoint --to FILE`)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="a trail without events is a new installation, not a deleted trail",
    )


def wants_export(argv: Sequence[str]) -> bool:
    """Whether ``audit verify`` was asked to read an export (then Django is not needed)."""
    return any(arg == "--export" or arg.startswith("--export=") for arg in argv)


def load_key_files(paths: Sequence[str]) -> list[Ed25519PublicKey]:
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                keys += load_public_keys(handle.read(), path)
        except OSError as exc:
            raise VerifyInputError(f"{path}: cannot read the public key ({exc.strerror})") from None
        except KeyFileInvalid as exc:
            raise VerifyInputError(str(exc)) from None
    return keys


def load_checkpoint_files(paths: Sequence[str]) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found += read_checkpoints(handle, path)
        except OSError as exc:
            raise VerifyInputError(f"{path}: cannot read checkpoints ({exc.strerror})") from None
        except ValueError as exc:
            raise VerifyInputError(str(exc)) from None
    return found


def report(outcome: Verification, out: TextIO) -> int:
    """One line with the verdict (and notes); the exit status: 0 verified, 1 broken."""
    # write() with the newline included: Django's OutputWrapper would add a second one.
    out.write(outcome.summary() + "\n")
    for note in outcome.notes:
        out.write(f"  note: {note}\n")
    if outcome.problem is not None and outcome.problem.kind == "empty":
        out.write("  hint: on a new installation, verify with --allow-empty\n")
    return 0 if outcome.ok else 1


def verify_export_file(
    export: str,
    pubkeys: Sequence[str],
    checkpoints: Sequence[str],
    out: TextIO,
    *,
    allow_empty: bool = False,
) -> int:
    """Verify one JSONL export with the keys and anchors named; the exit status."""
    try:
        keys = load_key_files(pubkeys)
        extra = load_checkpoint_files(checkpoints)
        with open(export, "rb") as lines:
            outcome = verify_export(
                lines, public_keys=keys, checkpoints=extra, allow_empty=allow_empty
            )
    except OSError as exc:
        print(f"{export}: cannot read the export ({exc.strerror})", file=sys.stderr)
        return 2
    except VerifyInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    return report(outcome, out)


def audit_verify_export(argv: Sequence[str], out: TextIO | None = None) -> int:
    """``backoffice audit verify --export FILE``: no settings, no database, no Django."""
    parser = argparse.ArgumentParser(
        prog="backoffice audit verify",
        description="Recompute the audit chain of an export and check its signed checkpoints.",
    )
    add_verify_arguments(parser)
    args = parser.parse_args(argv)
    if not args.export:
        parser.error("--export FILE is required without the application database")
    return verify_export_file(
        args.export, args.pubkey, args.checkpoints, out or sys.stdout, allow_empty=args.allow_empty
    )
