"""#19: starting a job, running it in the worker with its progress, and ending it.

A job is started by a person through ``do_start_job`` (checked and audited like the
synchronous path it replaces), run by ``run_job`` in ``backoffice worker``, and ended as
done or failed (audited). Progress goes to the database on a connection of its own: the
work may hold the main connection with a streaming read (the verifier on PostgreSQL), and
each progress write must be visible at once to the page that polls it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks import task

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from backoffice.core.progress import job_is_stale
from backoffice.jobs.kinds import KINDS, Finished
from backoffice.jobs.models import Job

__all__ = [
    "Heartbeat",
    "JobProgress",
    "do_expire_job",
    "do_open_result",
    "do_start_job",
    "do_sweep_jobs",
    "result_file",
    "run_job",
]

logger = logging.getLogger(__name__)


def result_file(job: Job) -> Path | None:
    """The job's result file, if it has one that still exists."""
    if not job.result_path:
        return None
    path = Path(settings.JOBS_DIR) / job.result_path
    return path if path.is_file() else None


def do_start_job(actor: Actor, kind: str, parameters: dict[str, Any]) -> Job:
    """Queue ``kind`` for the worker, for ``actor``; refused as the synchronous path would
    refuse it (the kind checks who may, and the parameters), the refusal on record in its
    own transaction. Audited as ``job.started``, queued in the same transaction."""
    found = KINDS.get(kind)
    if found is None:
        raise DomainError("input.invalid", f"kind: one of {', '.join(sorted(KINDS))}.")
    checked = found.check(actor, parameters)
    with transaction.atomic(durable=True):
        job = Job.objects.create(
            starter=actor.user, kind=kind, parameters=checked, heartbeat=timezone.now()
        )
        record(
            "job.started",
            actor=actor.user.get_username(),
            object_type="job",
            object_id=str(job.pk),
            after={"kind": kind, "parameters": checked},
        )
        run_job.enqueue(str(job.pk))
    return job


def _write_row(connection: BaseDatabaseWrapper, job_id: uuid.UUID, values: dict[str, int]) -> None:
    """``values`` (``done``, ``total``) and the heartbeat of a running job, in autocommit on
    ``connection`` (not the work's own, which may be busy streaming)."""
    table = connection.ops.quote_name(Job._meta.db_table)
    beat = connection.ops.adapt_datetimefield_value(timezone.now())
    sets = "".join(f"{connection.ops.quote_name(name)} = %s, " for name in values)
    # S608: the column names are the model's own (done, total), the table too.
    sql = f"UPDATE {table} SET {sets}heartbeat = %s WHERE id = %s AND state = %s"  # noqa: S608
    key = Job._meta.pk.get_db_prep_value(job_id, connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values.values(), beat, key, Job.RUNNING])
    except DatabaseError:
        # Progress is a report on the work, not the work: a write that meets a lock is
        # left out, and the next one (or the end) says how far it got.
        logger.warning("job %s: progress not written", job_id, exc_info=True)


class JobProgress:
    """The callback the work reports to: ``done`` and the heartbeat are written at most
    every ``JOBS_PROGRESS_SECONDS``, on a connection of the job's own, in autocommit."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.every = float(settings.JOBS_PROGRESS_SECONDS)
        self.last = float("-inf")
        self.latest = 0
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def set_total(self, total: int) -> None:
        self._write("total", total)

    def __call__(self, done: int) -> None:
        self.latest = done
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._write("done", done)

    def _write(self, column: str, value: int) -> None:
        _write_row(self.connection, self.job.pk, {column: value})

    def close(self) -> None:
        self.connection.close()


class Heartbeat:
    """While the work runs, the heartbeat is written every ``JOBS_HEARTBEAT_SECONDS`` (a
    quarter of ``JOBS_STALE_SECONDS``) from a thread of the worker's process, also in long stretches
    without a unit of progress (writing the live folder, a report, OCEL's objects): a job
    goes stale only when the process that runs it is gone, not when it is busy."""

    def __init__(self, job: Job) -> None:
        self.key = job.pk
        self.every = float(settings.JOBS_HEARTBEAT_SECONDS)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-{job.pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        connection = connections.create_connection(DEFAULT_DB_ALIAS)  # this thread's own
        try:
            while not self.stopped.wait(self.every):
                _write_row(connection, self.key, {})
        finally:
            connection.close()


@task()
def run_job(job_id: str) -> None:
    """Run one queued job to its end. A job is claimed once: a task the worker's recovery
    runs again after a crash finds it no longer queued and leaves it to go stale."""
    do_sweep_jobs()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.QUEUED).update(
        state=Job.RUNNING, started=now, heartbeat=now
    )
    if not claimed:
        return
    job = Job.objects.select_related("starter").get(pk=job_id)
    progress = JobProgress(job)
    try:
        with Heartbeat(job):
            finished = KINDS[job.kind].run(job, progress)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        finished = Finished(ok=False, message=gettext_noop("The job stopped with an error."))
    finally:
        progress.close()
    _do_finish(job, finished)


@transaction.atomic(durable=True)
def _do_finish(job: Job, finished: Finished) -> None:
    """Done (or failed), with its result, and on record. A job already failed as stale
    stays failed; its late result file is deleted."""
    state = Job.DONE if finished.ok else Job.FAILED
    now = timezone.now()
    changes: dict[str, Any] = {
        "state": state,
        "finished": now,
        "heartbeat": now,
        "message": finished.message,
        "outcome": finished.outcome,
        "result_path": finished.result_path,
    }
    if finished.done is not None:
        changes["done"] = finished.done
        changes["total"] = finished.done
    if not Job.objects.filter(pk=job.pk, state=Job.RUNNING).update(**changes):
        if finished.result_path:
            (Path(settings.JOBS_DIR) / finished.result_path).unlink(missing_ok=True)
        return
    record(
        "job.finished" if finished.ok else "job.failed",
        actor=job.starter.get_username(),
        object_type="job",
        object_id=str(job.pk),
        after={"kind": job.kind, "done": finished.done, "outcome": finished.outcome},
        reason=finished.message,
    )


def do_expire_job(job: Job) -> Job:
    """Fail ``job`` if its worker stopped reporting (``core.progress.job_is_stale``)."""
    stale_after = timedelta(seconds=settings.JOBS_STALE_SECONDS)
    now = timezone.now()
    if not job_is_stale(job.state, job.heartbeat, now, stale_after):
        return job
    message = (
        gettext_noop("No worker took the job up in time.")
        if job.state == Job.QUEUED
        else gettext_noop("The worker stopped reporting: the job did not finish.")
    )
    with transaction.atomic(durable=True):
        failed = Job.objects.filter(
            pk=job.pk, state=job.state, heartbeat__lt=now - stale_after
        ).update(state=Job.FAILED, finished=now, message=message)
        if failed:
            record(
                "job.failed",
                actor=job.starter.get_username(),
                object_type="job",
                object_id=str(job.pk),
                after={"kind": job.kind, "done": job.done, "stale": True},
                reason=message,
            )
    job.refresh_from_db()
    return job


def do_sweep_jobs() -> int:
    """Fail stale jobs and delete result files past ``JOBS_RESULT_DAYS``; returns how many
    files were deleted. The worker runs it before each job."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    for job in Job.objects.filter(
        state__in=[Job.QUEUED, Job.RUNNING], heartbeat__lt=stale
    ).select_related("starter")[:100]:
        do_expire_job(job)
    expired = Job.objects.filter(
        finished__lt=now - timedelta(days=settings.JOBS_RESULT_DAYS)
    ).exclude(result_path="")
    deleted = 0
    for job in expired[:1000]:
        (Path(settings.JOBS_DIR) / job.result_path).unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(result_path="")
        deleted += 1
    return deleted


def do_open_result(actor: Actor, job: Job) -> BinaryIO:
    """The job's result file, opened for reading; its download is on record."""
    path = result_file(job) if job.state == Job.DONE else None
    if path is None:
        raise DomainError("job.no_result", "This job has no file to download (any more).")
    handle = open(path, "rb")  # noqa: SIM115 - the response closes it when sent
    with transaction.atomic(durable=True):
        record(
            "job.downloaded",
            actor=actor.user.get_username(),
            object_type="job",
            object_id=str(job.pk),
            after={"kind": job.kind, "file": job.result_path},
        )
    return handle
