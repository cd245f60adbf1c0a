"""#19 ``POST /jobs`` (start), ``GET /jobs/{id}`` (poll), ``GET /jobs/{id}/result`` (the
file): long work for clients that poll, only ever for the person who started it."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Router, Status

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS
from backoffice.jobs.kinds import KINDS
from backoffice.jobs.models import Job
from backoffice.jobs.queries import access_job_by_id
from backoffice.jobs.schemas import JobIn, JobOut
from backoffice.jobs.services import do_expire_job, do_open_result, do_start_job

__all__ = ["router"]

router = Router(tags=["jobs"])


def job_out(job: Job) -> JobOut:
    has_file = job.state == Job.DONE and bool(job.result_path)
    return JobOut(
        id=job.pk,
        kind=job.kind,
        state=job.state,  # type: ignore[arg-type]
        done=job.done,
        total=job.total,
        message=job.message,
        outcome=job.outcome,
        result=reverse("api:get_job_result", args=[job.pk]) if has_file else None,
        created=job.created,
        started=job.started,
        finished=job.finished,
    )


@router.post(
    "/jobs",
    response={202: JobOut, **PROBLEMS},
    summary="Start a job (verify the audit chain, export the audit trail); poll it after",
)
def start_job(request: HttpRequest, body: JobIn) -> Status[JobOut]:
    parameters = {
        name: value
        for name, value in (
            ("format", body.format),
            ("from", body.from_),
            ("to", body.to),
            ("object", body.object),
        )
        if value is not None
    }
    job = do_start_job(actor_of(request), body.kind, parameters)
    return Status(202, job_out(job))


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, **PROBLEMS},
    summary="A job's state and progress (done of total), and its result when done",
)
def get_job(request: HttpRequest, job_id: str) -> JobOut:
    return job_out(do_expire_job(access_job_by_id(actor_of(request), job_id)))


@router.get(
    "/jobs/{job_id}/result",
    response={200: str, **PROBLEMS},
    summary="The file a finished export job wrote (while it is kept)",
)
def get_job_result(request: HttpRequest, job_id: str) -> FileResponse:
    actor = actor_of(request)
    job = access_job_by_id(actor, job_id)
    handle = do_open_result(actor, job)
    filename, media_type = KINDS[job.kind].download(job.parameters)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=media_type)
