"""#19: the auditor starts a verify on the audit page and watches it get there: the numbers
on the page are the worker's, written as it checks, and the verdict follows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from backoffice.audit.models import AuditEvent
from backoffice.jobs.services import JobProgress
from tests.browser.conftest import screenshot
from tests.notify.conftest import run_worker

#: Records, in the page, every state of the progress element the polls put in.
WATCH = """() => {
  window.seen = [];
  const box = document.querySelector('#verification');
  new MutationObserver(() => {
    const bar = box.querySelector('progress');
    const count = box.querySelector('.job-count');
    if (bar) window.seen.push([bar.getAttribute('value'), bar.getAttribute('max'),
                               count ? count.textContent : '']);
  }).observe(box, {subtree: true, childList: true});
}"""


def test_the_auditor_starts_a_verify_and_sees_its_progress_then_the_verdict(
    session: Callable[..., Any], live_bank: str, settings: Any, monkeypatch: Any
) -> None:
    settings.JOBS_POLL_SECONDS = 0.2
    settings.JOBS_PROGRESS_SECONDS = 0
    settings.JOBS_PROGRESS_EVERY = every = max(1, AuditEvent.objects.count() // 6)
    monkeypatch.setattr("backoffice.audit.queries._RUN", every)  # PostgreSQL's runs, as small
    write = JobProgress._write

    def unhurried(self: JobProgress, column: str, value: int) -> None:
        # the demo trail is checked in a blink: each report waits a moment, so that the
        # page's polls meet the job half-way (what a large trail looks like)
        write(self, column, value)
        time.sleep(0.4)

    monkeypatch.setattr(JobProgress, "_write", unhurried)
    page = session("martin.jung", language="en")
    page.goto(f"{live_bank}/audit/")
    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.locator("#verification")).to_contain_text("Waiting for the worker")
    page.evaluate(WATCH)
    run_worker()  # here, while the live server answers the page's polls
    expect(page.locator("#verification")).to_contain_text("Intact")
    screenshot(page, "audit-verify-job-en")
    seen = page.evaluate("window.seen")
    half_way = [s for s in seen if s[0] is not None and s[1] and 0 < int(s[0]) < int(s[1])]
    assert half_way, seen
    done, total, text = half_way[0]
    assert f"{done} of {total} events checked" in text
    head = AuditEvent.objects.filter(action="job.finished").get()
    assert head.actor == "martin.jung"
    assert seen[-1][0] == seen[-1][1]  # the bar ends full


@pytest.mark.usefixtures("live_bank")
def test_a_job_is_not_shown_to_another_auditor(session: Callable[..., Any], live_bank: str) -> None:
    page = session("martin.jung", language="en")
    page.goto(f"{live_bank}/audit/")
    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.locator("#verification")).to_contain_text("Waiting for the worker")
    job = page.locator("#verification .job").get_attribute("id")
    assert job is not None
    other = session("clara.vogel", language="en")
    response = other.goto(f"{live_bank}/jobs/{job.removeprefix('job-')}/")
    assert response is not None and response.status == 404
