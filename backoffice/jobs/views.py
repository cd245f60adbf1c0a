"""#19 pages: start a job, watch its progress (an htmx fragment that asks again until the
job ends), get its result; and the list of one's own jobs."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.jobs.kinds import KINDS
from backoffice.jobs.models import Job
from backoffice.jobs.queries import access_job_by_id, get_own_jobs
from backoffice.jobs.services import do_expire_job, do_open_result, do_start_job

__all__ = ["job_detail", "job_download", "job_list", "job_start"]

#: the form fields a job takes as its parameters (the rest of the form is not passed on)
PARAMETERS = ("format", "from", "to", "object")


def progress_context(job: Job) -> dict[str, Any]:
    """What the progress fragment shows; the poll interval comes from the settings."""
    return {
        "job": job,
        "poll": f"{float(settings.JOBS_POLL_SECONDS):g}s",
        "has_file": bool(job.result_path) and job.state == Job.DONE,
    }


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """One's own jobs, newest first, a page at a time."""
    page = page_of(request, get_own_jobs(actor_of(request)), ("-created", "-pk"))
    # a job whose worker died is shown failed here too, not running for ever
    jobs = [job if job.finished_state else do_expire_job(job) for job in page.items]
    return render(
        request,
        "jobs/job_list.html",
        {"jobs": jobs, "next": next_url(request, page.next)},
    )


@login_required
@require_POST
def job_start(request: HttpRequest) -> HttpResponse:
    """Queue the job the form asks for; htmx gets the progress fragment in place, a plain
    form the job's page."""
    parameters = {name: request.POST[name] for name in PARAMETERS if name in request.POST}
    job = do_start_job(actor_of(request), request.POST.get("kind", ""), parameters)
    if request.htmx:
        return render(request, "jobs/_progress.html", progress_context(job), status=202)
    return redirect("jobs:detail", job_id=job.pk)


@login_required
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """The job's progress; htmx polls the fragment until the job is done or failed."""
    job = do_expire_job(access_job_by_id(actor_of(request), job_id))
    template = "jobs/_progress.html" if request.htmx else "jobs/job_detail.html"
    return render(request, template, progress_context(job))


@login_required
def job_download(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    """The job's file, to its starter only (audited as ``job.downloaded``)."""
    actor = actor_of(request)
    job = access_job_by_id(actor, job_id)
    handle = do_open_result(actor, job)
    filename, media_type = KINDS[job.kind].download(job.parameters)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=media_type)
