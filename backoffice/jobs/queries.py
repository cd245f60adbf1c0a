"""#19: the one checked read of a job, and one's own jobs."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from backoffice.jobs.kinds import KINDS
from backoffice.jobs.models import Job

__all__ = ["access_job_by_id", "get_own_jobs"]


def get_own_jobs(actor: Actor) -> QuerySet[Job]:
    """The jobs ``actor`` started, of kinds whose data they may still read."""
    kinds = [name for name, kind in KINDS.items() if kind.permission in actor.permissions]
    return Job.objects.filter(starter=actor.user, kind__in=kinds)


def access_job_by_id(actor: Actor, job_id: str | uuid.UUID) -> Job:
    """The job, if ``actor`` started it and may still read what it reads; the same
    ``job.not_found`` for a job that does not exist and one that is someone else's."""
    try:
        key = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
        job = Job.objects.select_related("starter").get(pk=key)
    except (ValueError, Job.DoesNotExist):
        job = None
    if (
        job is None
        or job.starter_id != actor.user.pk
        or job.kind not in KINDS
        or KINDS[job.kind].permission not in actor.permissions
    ):
        raise DomainError("job.not_found", "There is no such job that you may see.")
    return job
