"""Debian's Chromium driven by Playwright against the live server (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    seed_bank()
    return str(live_server.url)


def seed_bank(*, full: bool = False) -> None:
    """The demo policy (restored from the worker's snapshot after its first load) and the
    demo cases; ``full``: also credits, walls and trades, so every main page has rows."""
    from backoffice.ops.seed import seed_demo_cases
    from tests.conftest import load_demo_bank

    load_demo_bank()
    seed_demo_cases()
    if full:
        from backoffice.credit.demo import seed_demo_credit
        from backoffice.trading.demo import seed_demo_trading
        from backoffice.walls.seed import seed_demo_walls

        seed_demo_credit()
        seed_demo_walls()
        seed_demo_trading()


@pytest.fixture(scope="module")
def shared_bank(live_server: Any, django_db_blocker: Any) -> Iterator[str]:
    """The full demo bank on the live server, set up once for a module whose tests only
    look (phones, accessibility): seeding it for each of their tests cost more than the
    tests. The database is emptied afterwards, as a transactional test leaves it."""
    from django.core.management import call_command

    live_server._live_server_modified_settings.enable()
    with django_db_blocker.unblock():
        try:
            seed_bank(full=True)
            yield str(live_server.url)
        finally:
            call_command("flush", verbosity=0, interactive=False)
            live_server._live_server_modified_settings.disable()


@pytest.fixture(autouse=True)
def _live_server_helper(request: pytest.FixtureRequest) -> Iterator[None]:
    """pytest-django's helper of the same name, but not for tests on the ``shared_bank``.

    pytest-django gives every test that uses ``live_server`` an emptied database of its own
    (``transactional_db``); that would empty the module's bank after its first test. The
    other tests get what pytest-django's helper does (pytest_django/fixtures.py).
    """
    if "live_server" not in request.fixturenames or "shared_bank" in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")
    live_server = request.getfixturevalue("live_server")
    live_server._live_server_modified_settings.enable()
    yield
    live_server._live_server_modified_settings.disable()


def _logged_in(chromium: Any, base: str, username: str, language: str | None) -> Any:
    """A fresh browser context logged in as ``username`` (by typing, like a person)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    if language:
        user.profile.language = language
        user.profile.save(update_fields=["language"])
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    return page


@contextmanager
def browser_sessions(chromium: Any, base: str) -> Iterator[Callable[..., Any]]:
    """``open_as(username, language=None)``: a fresh browser session on ``base`` logged in
    by typing, like a person; every one is closed at the end."""
    contexts: list[Any] = []

    def open_as(username: str, *, language: str | None = None) -> Any:
        page = _logged_in(chromium, base, username, language)
        contexts.append(page.context)
        return page

    try:
        yield open_as
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def session(chromium: Any, live_bank: str) -> Iterator[Callable[..., Any]]:
    """A fresh browser session logged in as ``username`` (by typing, like a person)."""
    with browser_sessions(chromium, live_bank) as open_as:
        yield open_as


@pytest.fixture
def shared_session(chromium: Any, shared_bank: str) -> Iterator[Callable[..., Any]]:
    """``session`` on the module's ``shared_bank``."""
    with browser_sessions(chromium, shared_bank) as open_as:
        yield open_as


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
