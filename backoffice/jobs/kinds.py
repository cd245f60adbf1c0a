"""#19: what a job can be. Each kind checks who may start it (as its synchronous path
does) and its parameters, and runs the same functions as the CLI, with a progress callback.

- ``audit.verify``: ``backoffice audit verify`` over the database (``verify_database``);
- ``audit.export``: ``backoffice audit export`` into a file (``export_chunks``);
- ``sod.analyze``: ``backoffice sod analyze --live`` into a report (``analyze``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from backoffice.access.services import access_risks
from backoffice.audit.exports import (
    FORMATS,
    MEDIA_TYPES,
    ExportScope,
    Format,
    export_chunks,
    parse_scope,
)
from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import access_audit_log, verify_database
from backoffice.audit.signing import configured_public_keys
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError

if TYPE_CHECKING:
    from backoffice.jobs.models import Job

__all__ = ["KINDS", "Finished", "JobKind", "Reporter"]


class Reporter(Protocol):
    """What a running job reports to (``services.JobProgress``)."""

    #: the last count told, written or not
    latest: int

    def set_total(self, total: int) -> None: ...

    def __call__(self, done: int) -> None: ...


@dataclass(frozen=True)
class Finished:
    """How a job ended: its message, what it found, the file it wrote (relative to
    ``JOBS_DIR``), and how many units it did in the end (None: as last reported)."""

    ok: bool
    message: str
    outcome: dict[str, Any] | None = None
    result_path: str = ""
    done: int | None = None


@dataclass(frozen=True)
class JobKind:
    """``permission``: what one must hold to see the job and its result, as long as it is
    kept (checked on every read, not only at the start)."""

    permission: str
    check: Callable[[Actor, Mapping[str, Any]], dict[str, Any]]
    run: Callable[[Job, Reporter], Finished]
    #: the file name and media type of its result (by the job's parameters)
    download: Callable[[Mapping[str, Any]], tuple[str, str]] = lambda parameters: (
        f"audit-log.{MEDIA_TYPES[parameters.get('format', 'jsonl')][0]}",
        MEDIA_TYPES[parameters.get("format", "jsonl")][1],
    )


def _every() -> int:
    return int(settings.JOBS_PROGRESS_EVERY)


def _check_verify(actor: Actor, parameters: Mapping[str, Any]) -> dict[str, Any]:
    access_audit_log(actor)
    return {}


def _run_verify(job: Job, progress: Reporter) -> Finished:
    head = AuditEvent.objects.aggregate(seq=Max("seq"))["seq"] or 0
    progress.set_total(int(head))
    outcome = verify_database(configured_public_keys(), progress=progress, every=_every())
    problem = outcome.problem
    found = {
        "ok": outcome.ok,
        "events": outcome.events,
        "first_seq": outcome.first_seq,
        "head_seq": outcome.head_seq,
        "head_hash": outcome.head_hash,
        "checkpoints": outcome.checkpoints,
        "problem": {"kind": problem.kind, "seq": problem.seq, "message": problem.message}
        if problem
        else None,
        "notes": list(outcome.notes),
    }
    return Finished(ok=True, message=outcome.summary(), outcome=found, done=outcome.events)


def _check_export(actor: Actor, parameters: Mapping[str, Any]) -> dict[str, Any]:
    access_audit_log(actor)
    fmt = str(parameters.get("format") or "jsonl")
    if fmt not in FORMATS:
        raise DomainError("input.invalid", f"format: one of {', '.join(FORMATS)}.")
    asked = {name: str(parameters.get(name) or "") for name in ("from", "to", "object")}
    try:
        scope = parse_scope(asked["from"] or None, asked["to"] or None, asked["object"] or None)
    except ValueError as exc:
        raise DomainError("input.invalid", str(exc)) from None
    # The range is fixed now: "to 2026-12-31" means the events there are when it was asked.
    return {
        "format": fmt,
        "from_seq": scope.from_seq,
        "to_seq": scope.to_seq,
        "object": list(scope.object) if scope.object else None,
        "asked": asked,
    }


def _run_export(job: Job, progress: Reporter) -> Finished:
    parameters = job.parameters
    obj = parameters["object"]
    scope = ExportScope(
        from_seq=parameters["from_seq"],
        to_seq=parameters["to_seq"],
        object=(obj[0], obj[1]) if obj else None,
    )
    fmt = cast(Format, parameters["format"])
    progress.set_total(scope.events().count())
    folder = Path(settings.JOBS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.pk}.{MEDIA_TYPES[fmt][0]}"
    partial = folder / f"{name}.part"
    with open(partial, "w", encoding="utf-8", newline="") as out:
        for chunk in export_chunks(fmt, scope, progress=progress, every=_every()):
            out.write(chunk)
    count = progress.latest
    os.replace(partial, folder / name)
    return Finished(
        ok=True,
        message=gettext_noop("The file is ready."),
        outcome={"events": count, "format": fmt},
        result_path=name,
        done=count,
    )


#: ``sod analyze --format``: the report's media type
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}


def _check_analysis(actor: Actor, parameters: Mapping[str, Any]) -> dict[str, Any]:
    access_risks(actor, "the access-risk analysis")
    fmt = str(parameters.get("format") or "csv")
    if fmt not in REPORT_TYPES:
        raise DomainError("input.invalid", f"format: one of {', '.join(REPORT_TYPES)}.")
    return {"format": fmt, "as_of": timezone.localdate().isoformat()}


def _run_analysis(job: Job, progress: Reporter) -> Finished:
    from backoffice.access.export import write_live_folder
    from backoffice.core.accessrisk import analyze
    from backoffice.sod_report import FORMATS as REPORTS

    as_of = date.fromisoformat(job.parameters["as_of"])
    fmt = job.parameters["format"]
    told: list[int] = []

    def users(done: int, total: int) -> None:
        if not told:
            progress.set_total(total)
        told.append(done)
        progress(done)

    folder = Path(settings.JOBS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.pk}.{fmt}"
    with tempfile.TemporaryDirectory(prefix="backoffice-live-") as live:
        write_live_folder(Path(live), as_of)
        analysis = analyze(Path(live), as_of, users)
    partial = folder / f"{name}.part"
    with open(partial, "wb") as out:
        REPORTS[fmt](analysis, out)
    os.replace(partial, folder / name)
    mitigated = int(analysis.mitigated.sum())
    found = {
        "violations": len(analysis),
        "open": len(analysis) - mitigated,
        "mitigated": mitigated,
        "users": int(analysis.population.size),
        "as_of": as_of.isoformat(),
    }
    return Finished(
        ok=True,
        message=gettext_noop("The file is ready."),
        outcome=found,
        result_path=name,
        done=int(analysis.population.size),
    )


KINDS: dict[str, JobKind] = {
    "audit.verify": JobKind("audit.read", _check_verify, _run_verify),
    "audit.export": JobKind("audit.read", _check_export, _run_export),
    "sod.analyze": JobKind(
        "access.risk.read",
        _check_analysis,
        _run_analysis,
        lambda parameters: (
            f"violations.{parameters['format']}",
            REPORT_TYPES[parameters["format"]],
        ),
    ),
}
