"""Debian's Chromium driven by Playwright against the live server (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "musterbank-demo"


@pytest.fixture(scope="session")
def chromium(django_db_setup: Any) -> Iterator[Any]:
    """One browser for the session, started after the test database exists.

    Playwright's sync API runs an event loop in this thread; the ORM calls the fixtures make
    are still synchronous and safe (pytest-playwright's documented advice), so Django's
    async guard is lifted while the browser lives. Subprocesses never inherit it
    (``tests.support.cli_env``).
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for the browser tests (.ci/run installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def live_bank(live_server: Any, transactional_db: Any) -> str:
    """The demo bank with its demo cases, on the live server; returns its base URL."""
    from backoffice.ops.seed import seed_demo_cases
    from backoffice.org.services import do_load_policy
    from tests.conftest import DEMO_POLICY

    do_load_policy(DEMO_POLICY.read_bytes(), str(DEMO_POLICY), actor="test:setup")
    seed_demo_cases()
    return str(live_server.url)


@pytest.fixture
def session(chromium: Any, live_bank: str) -> Callable[..., Any]:
    """A fresh browser session logged in as ``username`` (by typing, like a person)."""
    pages: list[Any] = []

    def open_as(username: str, *, language: str | None = None) -> Any:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username=username)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        if language:
            user.profile.language = language
            user.profile.save(update_fields=["language"])
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.goto(f"{live_bank}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(f"{live_bank}/")
        pages.append(context)
        return page

    yield open_as
    for context in pages:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
