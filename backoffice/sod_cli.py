"""``backoffice sod analyze DIR``: bulk access-risk analysis of a CSV folder (issue #6).

It runs without Django (``backoffice.cli`` takes this path before Django is imported), so
it starts in a fraction of a second and needs no database. Bad input is reported as
``FILE:LINE: message`` with exit code 2 before anything is written; the output is written
to a temporary file beside the target and renamed, so a failed run leaves no partial file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO, TextIO

__all__ = ["sod_actual", "sod_analyze", "write_atomically"]

#: Exit code for bad input (argparse uses it for bad arguments too).
BAD_INPUT = 2


def sod_analyze(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command; the exit code is 0, or 2 for bad input (``out``/``err`` for tests)."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="backoffice sod analyze",
        description="Find every user who holds all functions of an access risk.",
    )
    parser.add_argument("folder", type=Path, nargs="?", help="folder with users.csv, roles.csv, …")
    parser.add_argument(
        "--live", action="store_true", help="analyse Backoffice's own database instead"
    )
    parser.add_argument(
        "--as-of", type=_iso_date, help="date mitigations must be valid on (default: today)"
    )
    parser.add_argument(
        "--out", help="output file, '-' for standard output (default: violations.FORMAT)"
    )
    parser.add_argument("--format", choices=("csv", "json", "html"), default="csv")
    parser.add_argument(
        "--explain", action="store_true", help="add the roles that supply each function"
    )
    args = parser.parse_args(argv)
    as_of: date = args.as_of or date.today()  # noqa: DTZ011 - a calendar day, not an instant

    if args.live == (args.folder is not None):
        parser.error("give either a folder or --live")
    if args.live:
        with tempfile.TemporaryDirectory(prefix="backoffice-live-") as folder:
            try:
                _export_live(Path(folder), as_of)
            except LookupError as exc:
                print(f"{parser.prog}: {exc}", file=err)
                return BAD_INPUT
            return _run(parser.prog, Path(folder), as_of, args, out, err)
    if not args.folder.is_dir():
        print(f"{parser.prog}: {args.folder}: no such folder", file=err)
        return BAD_INPUT
    return _run(parser.prog, args.folder, as_of, args, out, err)


def _export_live(folder: Path, as_of: date) -> None:
    """Set Django up (only ``--live`` needs it) and write the database as a CSV folder."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    from backoffice.access.export import write_live_folder

    write_live_folder(folder, as_of)


def _run(
    prog: str, folder: Path, as_of: date, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from backoffice.core.accessrisk import InputError, analyze
    from backoffice.sod_report import FORMATS

    target = args.out or f"violations.{args.format}"
    bar = _ProgressBar(err) if err.isatty() else None
    try:
        analysis = analyze(folder, as_of, bar)
        if bar is not None:
            bar.status(f"writing {target}…")

        if deliver(target, lambda h: FORMATS[args.format](analysis, h, explain_roles=args.explain)):
            return 0
    except InputError as exc:
        print(f"{prog}: {exc}", file=err)
        return BAD_INPUT
    except OSError as exc:
        print(f"{prog}: {target}: cannot write: {exc.strerror}", file=err)
        return BAD_INPUT
    finally:
        if bar is not None:
            bar.close()
    mitigated = int(analysis.mitigated.sum())
    print(
        f"{len(analysis):,} violations ({len(analysis) - mitigated:,} open, {mitigated:,} "
        f"mitigated) among {analysis.population.size:,} users as of {as_of.isoformat()} "
        f"→ {target}",
        file=out,
    )
    return 0


def deliver(target: str, write: Callable[[BinaryIO], None]) -> bool:
    """Write a report to ``target``, whole or not at all; ``-`` is standard output (then
    True: the caller prints no summary into the report)."""
    if target == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return True
    write_atomically(Path(target), write)
    return False


def write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temporary file beside ``target``, then rename it over ``target``.

    The rename is atomic, so ``target`` is either the old file or the complete new one;
    any failure removes the temporary file. (No fsync: a lost run is simply run again.)
    """
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _iso_date(text: str) -> date:
    from backoffice.core.accessrisk.load import parse_iso_date

    parsed = parse_iso_date(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)")
    return parsed


class _ProgressBar:
    """``evaluating [#####.....]  50% 500,000/1,000,000 users`` on a terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = -1
        self.status("reading and checking the input…")

    def status(self, text: str) -> None:
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if percent == self.shown:
            return
        self.shown = percent
        filled = percent * 30 // 100
        bar = "#" * filled + "." * (30 - filled)
        self.status(f"evaluating [{bar}] {percent:3d}% {done:,}/{total:,} users")

    def close(self) -> None:
        self.status("")


_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _window(text: str) -> int:
    """``30d``, ``12h``, ``90m`` or ``45s`` as microseconds."""
    unit = _UNITS.get(text[-1:]) if text else None
    digits = text[:-1]
    if unit is None or not digits.isdigit() or int(digits) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a window (a positive number and d, h, m or s, e.g. 30d)"
        )
    return int(digits) * unit * 1_000_000


def sod_actual(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``backoffice sod actual DIR --events LOG``: conflicts people actually performed."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="backoffice sod actual",
        description="Find people who performed every function of an access risk, within a "
        "window or on the same object, beside the conflicts they could perform.",
    )
    parser.add_argument(
        "folder", type=Path, nargs="?", help="the folder sod analyze reads (users.csv, …)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="Backoffice's own people, rules and audit trail instead of a folder",
    )
    parser.add_argument(
        "--events",
        type=Path,
        action="append",
        default=[],
        help="event log: CSV actor,action,object,time or OCEL 2.0 JSON (repeatable)",
    )
    parser.add_argument(
        "--mapping",
        type=Path,
        help="action,function_id CSV (default: actions.csv in the folder, if there)",
    )
    parser.add_argument(
        "--window", type=_window, default=_window("30d"), help="e.g. 30d, 12h (default 30d)"
    )
    parser.add_argument(
        "--as-of", type=_iso_date, help="date mitigations must be valid on (default: today)"
    )
    parser.add_argument(
        "--out", help="output file, '-' for standard output (default: actual.FORMAT)"
    )
    parser.add_argument("--format", choices=("csv", "json", "html"), default="csv")
    args = parser.parse_args(argv)
    as_of: date = args.as_of or date.today()  # noqa: DTZ011 - a calendar day, not an instant
    if args.live == (args.folder is not None):
        parser.error("give either a folder or --live")
    if not args.live and not args.events:
        parser.error("give at least one --events LOG")
    if args.live:
        with tempfile.TemporaryDirectory(prefix="backoffice-live-") as folder:
            try:
                trail = _export_live_trail(Path(folder), as_of)
            except LookupError as exc:
                print(f"{parser.prog}: {exc}", file=err)
                return BAD_INPUT
            args.events.insert(0, trail)
            return _run_actual(parser.prog, Path(folder), as_of, args, out, err, trail)
    if not args.folder.is_dir():
        print(f"{parser.prog}: {args.folder}: no such folder", file=err)
        return BAD_INPUT
    return _run_actual(parser.prog, args.folder, as_of, args, out, err)


def _export_live_trail(folder: Path, as_of: date) -> Path:
    """The live folder (as ``sod analyze --live``) and the whole audit trail as OCEL."""
    _export_live(folder, as_of)
    from backoffice.audit.exports import ExportScope, export_log

    trail = folder / "audit-trail.json"
    with open(trail, "w", encoding="utf-8") as handle:
        export_log(handle, "ocel", ExportScope())
    return trail


def _run_actual(
    prog: str,
    folder: Path,
    as_of: date,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    trail: Path | None = None,
) -> int:
    """``trail``: Backoffice's own audit trail (``--live``), where actors who are nobody
    (setup, failed logins under unknown names) are left out rather than refused."""
    from backoffice.core.accessrisk import InputError
    from backoffice.core.accessrisk.actual import analyze_actual
    from backoffice.sod_actual_report import ACTUAL_FORMATS

    target = args.out or f"actual.{args.format}"
    try:
        report = analyze_actual(
            folder,
            args.events,
            as_of,
            args.window,
            args.mapping,
            everyone=args.format != "csv",  # JSON and HTML list those who only could, too
            people_only=[trail] if trail else (),
        )

        if deliver(target, lambda handle: ACTUAL_FORMATS[args.format](report, handle)):
            return 0
    except InputError as exc:
        print(f"{prog}: {exc}", file=err)
        return BAD_INPUT
    except OSError as exc:
        print(f"{prog}: {target}: cannot write: {exc.strerror}", file=err)
        return BAD_INPUT
    f = report.findings
    print(
        f"{len(f):,} actual conflicts of {len(set(f.user.tolist())):,} people "
        f"({int((~report.possible).sum()):,} not possible today) in {report.events:,} events "
        f"→ {target}",
        file=out,
    )
    return 0
