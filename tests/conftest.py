"""Shared fixtures: the demo policy loaded once per test, named people, a logged-in client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "backoffice" / "policies"
DEMO_POLICY = POLICIES / "demo-bank.yaml"
EXAMPLES = POLICIES / "examples"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need PostgreSQL; the SQLite pass deselects them (CI runs both)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def demo_policy_bytes() -> bytes:
    return DEMO_POLICY.read_bytes()


@pytest.fixture
def demo_bank(db: Any) -> Any:
    """The demo bank's organisation in the database, loaded through the real service."""
    from backoffice.org.services import do_load_policy

    return do_load_policy(DEMO_POLICY.read_bytes(), str(DEMO_POLICY), actor="test:setup")


@pytest.fixture
def login(client: Any) -> Callable[[str], Any]:
    """Log a person of the loaded policy in on the test client."""
    from django.contrib.auth import get_user_model

    def _login(username: str) -> Any:
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def admin_on(settings: Any) -> Any:
    """#13: the admin is off by default; this mounts it as ``BACKOFFICE_ADMIN=1`` would."""
    import importlib

    from django.urls import clear_url_caches

    import backoffice.urls

    settings.BACKOFFICE_ADMIN = True
    importlib.reload(backoffice.urls)
    clear_url_caches()
    yield
    settings.BACKOFFICE_ADMIN = False
    importlib.reload(backoffice.urls)
    clear_url_caches()
