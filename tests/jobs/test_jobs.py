"""#19: long work runs in the worker and shows how far it got, from the server's counts.

The tests run with real transactions: the worker writes progress on a connection of its
own, which sees only what is committed (as in production).
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from backoffice.audit.exports import ExportScope, export_log
from backoffice.audit.models import AuditEvent
from backoffice.jobs import services
from backoffice.jobs.models import Job
from tests.notify.conftest import run_worker
from tests.web.test_pages import as_user, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def every_few(settings: Any, monkeypatch: Any) -> Any:
    """Progress after every 5 events, each written (the demo trail is small). On PostgreSQL
    the verifier hashes runs of 1,000 events, and reports after each: here runs of 5."""
    settings.JOBS_PROGRESS_EVERY = 5
    settings.JOBS_PROGRESS_SECONDS = 0
    monkeypatch.setattr("backoffice.audit.queries._RUN", 5)
    return settings


@pytest.fixture
def progress_seen() -> Any:
    """What a reader on another connection (the page's) sees of ``done`` after each progress
    write of the worker: the writes must be committed at once, not at the job's end."""
    seen: list[int] = []
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    write = services.JobProgress._write
    table = connection.ops.quote_name(Job._meta.db_table)

    def observed(self: services.JobProgress, column: str, value: int) -> None:
        write(self, column, value)
        if column == "done":
            with reader.cursor() as cursor:
                key = Job._meta.pk.get_db_prep_value(self.job.pk, reader)  # type: ignore[union-attr]
                cursor.execute(f"SELECT done FROM {table} WHERE id = %s", [key])  # noqa: S608
                seen.append(int(cursor.fetchone()[0]))

    with mock.patch.object(services.JobProgress, "_write", observed):
        yield seen
    reader.close()


def _start(client: Any, **form: str) -> Job:
    response = client.post("/jobs/start/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 202, response.content[:300]
    return Job.objects.get(pk=response.content.decode().split('id="job-')[1].split('"')[0])


def test_a_verify_job_runs_in_the_worker_and_reports_progress_up_to_the_total(
    demo_bank: Any, every_few: Any, progress_seen: list[int]
) -> None:
    start()
    auditor = as_user("martin.jung")
    job = _start(auditor, kind="audit.verify")
    assert job.state == Job.QUEUED and job.starter.username == "martin.jung"
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    run_worker()
    written = progress_seen
    assert len(written) >= 3 and written == sorted(written) and written[-1] == head
    job.refresh_from_db()
    assert job.state == Job.DONE and job.done == job.total == head
    assert job.outcome is not None and job.outcome["ok"] and job.outcome["head_seq"] == head
    page = auditor.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Intact:" in page and "hx-trigger" not in page  # done: the page stops asking
    actions = list(
        AuditEvent.objects.filter(object_type="job", object_id=str(job.pk)).values_list(
            "action", "actor"
        )
    )
    assert actions == [("job.started", "martin.jung"), ("job.finished", "martin.jung")]


def test_the_progress_fragment_shows_done_of_total_and_keeps_asking(demo_bank: Any) -> None:
    auditor = as_user("martin.jung")
    job = _start(auditor, kind="audit.verify")
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING, done=40, total=120)
    fragment = auditor.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'max="120" value="40"' in fragment
    assert "40 of 120 events checked" in fragment
    assert f'hx-get="/jobs/{job.pk}/"' in fragment and 'hx-trigger="every 1s"' in fragment
    full = auditor.get(f"/jobs/{job.pk}/").content.decode()
    assert "<html" in full and "40 of 120 events checked" in full


def test_an_export_job_writes_the_same_file_as_the_cli_and_only_its_starter_gets_it(
    demo_bank: Any, every_few: Any, tmp_path: Any
) -> None:
    every_few.JOBS_DIR = tmp_path / "jobs"
    auditor = as_user("martin.jung")
    job = _start(auditor, kind="audit.export", format="jsonl", to="20")
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.DONE and job.done == job.total == 20
    fragment = auditor.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "20 events written." in fragment and f"/jobs/{job.pk}/download/" in fragment
    response = auditor.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = [json.loads(line) for line in body.splitlines()]
    assert [line["seq"] for line in lines if line.get("kind") == "event"] == list(range(1, 21))
    cli = tmp_path / "cli.jsonl"
    with open(cli, "w", encoding="utf-8") as out:
        export_log(out, "jsonl", ExportScope(to_seq=20))
    # the same events and checkpoints as `backoffice audit export` (the header has its time)
    assert body.splitlines()[1:] == cli.read_text(encoding="utf-8").splitlines()[1:]
    assert AuditEvent.objects.filter(action="job.downloaded", object_id=str(job.pk)).exists()
    # another auditor, someone without audit.read, and the API: not found, never forbidden
    for other in ("clara.vogel", "anna.schmidt"):
        client = as_user(other)
        assert client.get(f"/jobs/{job.pk}/").status_code == 404
        assert client.get(f"/jobs/{job.pk}/download/").status_code == 404
        assert client.get(f"/api/v1/jobs/{job.pk}").status_code == 404
        assert client.get(f"/api/v1/jobs/{job.pk}/result").status_code == 404
        assert str(job.pk) not in client.get("/jobs/").content.decode()
    assert str(job.pk) in auditor.get("/jobs/").content.decode()


def test_who_may_not_read_the_trail_cannot_start_a_job_and_the_refusal_is_on_record(
    demo_bank: Any,
) -> None:
    anna = as_user("anna.schmidt")
    response = anna.post("/jobs/start/", {"kind": "audit.verify"})
    assert response.status_code == 403
    assert not Job.objects.exists()
    assert AuditEvent.objects.filter(action="audit.denied", actor="anna.schmidt").exists()
    api = anna.post("/api/v1/jobs", {"kind": "audit.export"}, content_type="application/json")
    assert api.status_code == 403 and api.json()["code"] == "audit.forbidden"


def test_a_bad_export_range_is_refused_before_anything_is_queued(demo_bank: Any) -> None:
    response = as_user("martin.jung").post(
        "/api/v1/jobs",
        {"kind": "audit.export", "format": "csv", "object": "no-colon"},
        content_type="application/json",
    )
    assert response.status_code == 422 and "TYPE:ID" in response.json()["detail"]
    assert not Job.objects.exists()


def test_the_api_starts_a_job_and_polls_it_to_its_result(
    demo_bank: Any, every_few: Any, tmp_path: Any
) -> None:
    every_few.JOBS_DIR = tmp_path
    auditor = as_user("clara.vogel")
    body = {"kind": "audit.export", "format": "csv", "from": "3", "to": "7"}
    started = auditor.post("/api/v1/jobs", body, content_type="application/json")
    assert started.status_code == 202 and started.json()["state"] == "queued"
    url = f"/api/v1/jobs/{started.json()['id']}"
    run_worker()
    polled = auditor.get(url).json()
    assert polled["state"] == "done" and (polled["done"], polled["total"]) == (5, 5)
    assert polled["result"] == f"{url}/result"
    csv = b"".join(auditor.get(polled["result"]).streaming_content).decode()
    assert len(csv.strip().splitlines()) == 1 + 5  # the header and five events


def test_a_job_whose_worker_died_is_failed_after_the_timeout_not_running_for_ever(
    demo_bank: Any, settings: Any
) -> None:
    auditor = as_user("martin.jung")
    job = _start(auditor, kind="audit.verify")
    # the worker claimed it, reported once, and was killed (its task stays claimed)
    beat = timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS - 30)
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING, done=10, total=50, heartbeat=beat)
    assert "10 of 50 events checked" in auditor.get(f"/jobs/{job.pk}/").content.decode()
    late = timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(heartbeat=late)
    fragment = auditor.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "The job failed." in fragment and "hx-trigger" not in fragment
    job.refresh_from_db()
    assert job.state == Job.FAILED
    assert AuditEvent.objects.filter(action="job.failed", object_id=str(job.pk)).count() == 1
    # the worker's recovery runs the task again: a job is claimed once, it stays failed
    services.run_job.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.FAILED and job.done == 10
    assert auditor.get(f"/api/v1/jobs/{job.pk}").json()["state"] == "failed"


def test_a_job_nobody_picks_up_fails_in_the_sweep(demo_bank: Any, settings: Any) -> None:
    job = _start(as_user("martin.jung"), kind="audit.verify")
    old = timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(heartbeat=old)
    services.do_sweep_jobs()
    job.refresh_from_db()
    assert job.state == Job.FAILED and "No worker" in job.message


def test_result_files_are_deleted_after_the_retention_period(
    demo_bank: Any, every_few: Any, tmp_path: Any
) -> None:
    every_few.JOBS_DIR = tmp_path
    auditor = as_user("martin.jung")
    kept, old = (_start(auditor, kind="audit.export", format="csv") for _ in range(2))
    run_worker()
    for job in (kept, old):
        job.refresh_from_db()
        assert (tmp_path / job.result_path).is_file()
    past = timezone.now() - timedelta(days=every_few.JOBS_RESULT_DAYS, minutes=1)
    Job.objects.filter(pk=old.pk).update(finished=past)
    out = io.StringIO()
    call_command("jobs", "sweep", stdout=out)  # `backoffice jobs sweep`, for cron
    assert out.getvalue().startswith("1 result file(s)")
    old.refresh_from_db()
    kept.refresh_from_db()
    assert old.result_path == "" and not list(tmp_path.glob(f"{old.pk}*"))
    assert (tmp_path / kept.result_path).is_file()
    assert auditor.get(f"/jobs/{old.pk}/download/").status_code == 409
    page = auditor.get(f"/jobs/{old.pk}/").content.decode()
    assert "deleted after its retention period" in page


def test_an_ocel_export_counts_each_event_once_over_its_two_passes(
    demo_bank: Any, every_few: Any, tmp_path: Any, progress_seen: list[int]
) -> None:
    every_few.JOBS_DIR = tmp_path
    job = _start(as_user("martin.jung"), kind="audit.export", format="ocel", to="30")
    run_worker()
    written = progress_seen
    # the first pass (objects) ends half-way, the second (events) at the total
    assert written == sorted(written) and 15 in written and written[-1] == 30
    job.refresh_from_db()
    assert job.state == Job.DONE and job.done == job.total == 30
    document = json.loads((tmp_path / job.result_path).read_text(encoding="utf-8"))
    assert len(document["events"]) == 30


def test_the_live_access_risk_analysis_runs_as_a_job_and_gives_the_clis_report(
    demo_bank: Any, every_few: Any, tmp_path: Any
) -> None:
    from backoffice.sod_cli import sod_analyze

    every_few.JOBS_DIR = tmp_path / "jobs"
    clara = as_user("clara.vogel", language="en")
    job = _start(clara, kind="sod.analyze", format="csv")
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.DONE and job.done == job.total and job.total > 0
    assert job.outcome is not None and job.outcome["violations"] > 0
    fragment = clara.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f"{job.outcome['violations']} violations" in fragment
    response = clara.get(f"/jobs/{job.pk}/download/")
    assert response["Content-Disposition"].endswith('filename="violations.csv"')
    report = b"".join(response.streaming_content)
    cli = tmp_path / "cli.csv"
    assert sod_analyze(["--live", "--out", str(cli)]) == 0
    assert report == cli.read_bytes()
    # the market may not read access risks: refused and on record, nothing queued
    anna = as_user("anna.schmidt")
    assert anna.post("/jobs/start/", {"kind": "sod.analyze"}).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor="anna.schmidt").exists()
    assert Job.objects.count() == 1


def test_ones_own_jobs_are_listed_a_page_at_a_time(demo_bank: Any) -> None:
    auditor = as_user("martin.jung")
    started = [str(_start(auditor, kind="audit.verify").pk) for _ in range(3)]
    first = auditor.get("/jobs/?limit=2").content.decode()
    shown = [pk for pk in started if pk in first]
    assert len(shown) == 2 and 'rel="next"' in first
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = auditor.get(link).content.decode()
    assert [pk for pk in started if pk in second] == [pk for pk in started if pk not in shown]


def test_a_job_busy_without_progress_keeps_its_heartbeat_and_does_not_go_stale(
    demo_bank: Any, settings: Any, monkeypatch: Any
) -> None:
    """Writing the live folder or a report reports no unit for a while: the worker's
    heartbeat thread shows the job alive all the same."""
    from backoffice.jobs import kinds

    settings.JOBS_HEARTBEAT_SECONDS = 0.1
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    table = connection.ops.quote_name(Job._meta.db_table)
    beats: list[Any] = []

    def busy(job: Job, progress: Any) -> kinds.Finished:
        key = Job._meta.pk.get_db_prep_value(job.pk, reader)  # type: ignore[union-attr]
        for _ in range(200):  # until the heartbeat moved on (at most 10 s)
            with reader.cursor() as cursor:
                cursor.execute(f"SELECT heartbeat FROM {table} WHERE id = %s", [key])  # noqa: S608
                beats.append(cursor.fetchone()[0])
            if beats[-1] != beats[0]:
                break
            time.sleep(0.05)
        return kinds.Finished(ok=True, message="")

    verify = kinds.KINDS["audit.verify"]
    monkeypatch.setitem(
        kinds.KINDS, "audit.verify", kinds.JobKind("audit.read", verify.check, busy)
    )
    job = _start(as_user("martin.jung"), kind="audit.verify")
    run_worker()
    reader.close()
    assert len(set(beats)) > 1  # beaten while no unit was reported
    job.refresh_from_db()
    assert job.state == Job.DONE


def test_a_job_that_raises_is_failed_and_on_record(demo_bank: Any, monkeypatch: Any) -> None:
    from backoffice.jobs import kinds

    def broken(job: Job, progress: Any) -> kinds.Finished:
        raise RuntimeError("disk full")

    verify = kinds.KINDS["audit.verify"]
    monkeypatch.setitem(
        kinds.KINDS, "audit.verify", kinds.JobKind("audit.read", verify.check, broken)
    )
    auditor = as_user("martin.jung")
    job = _start(auditor, kind="audit.verify")
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.FAILED
    page = auditor.get(f"/jobs/{job.pk}/").content.decode()
    assert "The job failed." in page and "disk full" not in page  # no internals shown
    assert AuditEvent.objects.filter(action="job.failed", object_id=str(job.pk)).exists()
