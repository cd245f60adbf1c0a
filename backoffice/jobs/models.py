"""#19: a job is long work someone started and the worker runs: what, for whom, how far.

The worker writes ``done`` (of ``total``) and ``heartbeat`` as it goes, at most every
``JOBS_PROGRESS_SECONDS``; a queued or running job whose heartbeat is older than
``JOBS_STALE_SECONDS`` is failed (``core.progress.job_is_stale``), so a job whose worker
died never shows "running" for ever. Its result file is deleted after ``JOBS_RESULT_DAYS``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from typing_extensions import override

from backoffice.base.models import TimeStamped

__all__ = ["Job"]


class Job(TimeStamped):
    """One run of long work, seen only by the person who started it (while they may still
    read what it reads). The id is random: a job's address says nothing of other jobs."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    starter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    kind = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=STATES, default=QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    #: what the job found (a verification's verdict), for the page and the API
    outcome = models.JSONField(null=True, blank=True)
    #: the file it wrote, relative to ``JOBS_DIR``; emptied when the file is deleted
    result_path = models.CharField(max_length=200, blank=True)
    heartbeat = models.DateTimeField()
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["starter", "-created"], name="jobs_job_starter_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "done", "failed"]),
                name="%(app_label)s_%(class)s_state_known",
                violation_error_message="A job is queued, running, done or failed.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.done}/{self.total}"

    @property
    def finished_state(self) -> bool:
        return self.state in {self.DONE, self.FAILED}
