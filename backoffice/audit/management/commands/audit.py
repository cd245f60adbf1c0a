"""``backoffice audit``: signing key, checkpoints, verification and exports (#4)."""

from __future__ import annotations

import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from backoffice.audit.exports import FORMATS, export_log, parse_scope
from backoffice.audit.queries import get_latest_checkpoint, verify_database
from backoffice.audit.services import do_checkpoint
from backoffice.audit.signing import (
    anchor_line,
    append_anchor,
    configured_public_keys,
    do_generate_signing_key,
    key_path,
    load_signing_key,
)
from backoffice.audit_cli import (
    VerifyInputError,
    add_verify_arguments,
    load_checkpoint_files,
    load_key_files,
    report,
    verify_export_file,
)
from backoffice.base.actor import cli_actor
from backoffice.core.audit_sign import (
    KeyFileInvalid,
    key_fingerprint,
    public_key_pem,
    signature_is_valid,
)


class Command(BaseCommand):
    help = "The audit trail: keygen, pubkey, checkpoint, verify, export."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("keygen", help="create the Ed25519 checkpoint signing key (mode 0600)")
        pubkey = sub.add_parser("pubkey", help="print the public key (PEM) for auditors")
        pubkey.add_argument("--output", metavar="FILE")
        checkpoint = sub.add_parser("checkpoint", help="sign the chain's current head")
        checkpoint.add_argument(
            "--every", type=float, metavar="SECONDS", help="keep signing, every SECONDS"
        )
        checkpoint.add_argument(
            "--times", type=int, metavar="N", help="with --every: stop after N rounds"
        )
        checkpoint.add_argument(
            "--to",
            metavar="FILE",
            help="also append each checkpoint to FILE, an anchor outside the database (fsynced)",
        )
        verify = sub.add_parser("verify", help="recompute the chain; exit 1 naming what broke")
        add_verify_arguments(verify)
        export = sub.add_parser("export", help="stream the log as JSONL, CSV or OCEL 2.0")
        export.add_argument("--format", choices=FORMATS, default="jsonl")
        export.add_argument("--from", dest="start", metavar="SEQ|DATE")
        export.add_argument("--to", dest="end", metavar="SEQ|DATE")
        export.add_argument("--object", metavar="TYPE:ID")
        export.add_argument("--output", metavar="FILE", help="default: standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _keygen(self, options: dict[str, Any]) -> None:
        path = key_path()
        try:
            key = do_generate_signing_key(path)
        except FileExistsError:
            raise CommandError(
                f"{path} exists; move it away first (keep its public key to verify old "
                "checkpoints: `backoffice audit pubkey`)"
            ) from None
        self.stdout.write(f"wrote the checkpoint signing key to {path} (mode 0600)")
        self.stdout.write(f"public key fingerprint: {key_fingerprint(key.public_key())}")

    def _pubkey(self, options: dict[str, Any]) -> None:
        pem = public_key_pem(self._signing_key().public_key()).decode("ascii")
        if options["output"]:
            with open(options["output"], "w", encoding="ascii") as handle:
                handle.write(pem)
        else:
            self.stdout.write(pem, ending="")

    def _checkpoint(self, options: dict[str, Any]) -> None:
        key = self._signing_key()
        every, times = options["every"], options["times"]
        anchors = Path(options["to"]) if options["to"] else None
        rounds = 0
        while True:
            rounds += 1
            try:
                self._sign(key, anchors)
            except (DatabaseError, OSError) as exc:
                if every is None and isinstance(exc, OSError):
                    raise CommandError(
                        f"{anchors}: cannot append the anchor ({exc.strerror}); the checkpoint "
                        "is stored, and the next run appends it"
                    ) from None
                if every is None:
                    raise
                # On a schedule, one failed round must not end the schedule.
                self.stderr.write(f"checkpoint failed, trying again in {every}s: {exc}")
            if every is None or (times is not None and rounds >= times):
                return
            close_old_connections()
            time.sleep(every)

    def _sign(self, key: Any, anchors: Path | None) -> None:
        checkpoint = do_checkpoint(key, actor=cli_actor())
        if checkpoint is None:
            self.stderr.write("nothing new to sign since the last checkpoint")
            if anchors is not None:
                self._anchor_latest(key, anchors)
            return
        signed = checkpoint.to_core()
        # The record on stdout is meant to be kept elsewhere: `verify --checkpoints FILE`.
        self.stdout.write(anchor_line(signed))
        self.stdout.flush()  # on a schedule, a pipe to a log must get each line at once
        if anchors is not None:
            append_anchor(anchors, signed)

    def _anchor_latest(self, key: Any, anchors: Path) -> None:
        """Append the latest stored checkpoint if the file lacks it (a failed earlier append).

        Only one this key signed: a forged row in the database is not copied out of it.
        """
        latest = get_latest_checkpoint()
        if latest is None or not signature_is_valid(latest, key.public_key()):
            return
        if append_anchor(anchors, latest):
            self.stderr.write(f"appended the checkpoint of #{latest.seq} to {anchors}")

    def _verify(self, options: dict[str, Any]) -> None:
        allow_empty = options["allow_empty"]
        if options["export"]:
            status = verify_export_file(
                options["export"],
                options["pubkey"],
                options["checkpoints"],
                self.stdout,
                allow_empty=allow_empty,
            )
        else:
            try:
                keys = load_key_files(options["pubkey"]) or configured_public_keys()
                extra = load_checkpoint_files(options["checkpoints"])
            except VerifyInputError as exc:
                raise CommandError(str(exc)) from None
            outcome = verify_database(keys, extra, allow_empty=allow_empty)
            status = report(outcome, self.stdout)
        if status:
            raise SystemExit(status)

    def _export(self, options: dict[str, Any]) -> None:
        try:
            scope = parse_scope(options["start"], options["end"], options["object"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        target: Any = (
            open(options["output"], "w", encoding="utf-8", newline="")  # noqa: SIM115
            if options["output"]
            else nullcontext(_Raw(self.stdout))
        )
        try:
            with target as out:
                count = export_log(out, options["format"], scope)
        except BrokenPipeError:
            # The reader (`| head`) has had enough; as any Unix filter, stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        self.stderr.write(f"exported {count} events")

    def _signing_key(self) -> Any:
        try:
            return load_signing_key()
        except KeyFileInvalid as exc:
            raise CommandError(str(exc)) from None


class _Raw:
    """Standard output without Django's automatic line endings (exports write their own)."""

    def __init__(self, out: Any) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text, ending="")
        return len(text)
