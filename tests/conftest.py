"""Shared fixtures: the demo policy loaded once per test, named people, a logged-in client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from hypothesis import settings

# Tests never assert on wall-clock time: hypothesis's per-example deadline is one, and it
# failed property tests at random while the machine was busy (two cores, CI beside them)
settings.register_profile("backoffice", deadline=None)
settings.load_profile("backoffice")

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


class _Snapshot:
    """The rows one load of the demo policy adds, kept per worker process.

    The first ``demo_bank`` of a worker loads the policy through the real service and keeps
    every row the load added; later ones insert those rows again in one transaction, a
    statement per table instead of hundreds (the policy is the same file in every test).
    """

    def __init__(self) -> None:
        self.rows: list[tuple[Any, list[tuple[Any, ...]]]] = []
        self.result: Any = None

    @staticmethod
    def _models() -> list[Any]:
        from django.apps import apps

        return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]

    @staticmethod
    def _columns(model: Any) -> list[str]:
        return [f.attname for f in model._meta.concrete_fields]

    def take(self, before: dict[Any, set[Any]], result: Any) -> None:
        for model in self._models():
            columns = self._columns(model)
            rows = [
                row
                for row in model._base_manager.order_by("pk").values_list(*columns)
                if row[columns.index(model._meta.pk.attname)] not in before[model]
            ]
            if rows:
                self.rows.append((model, rows))
        self.result = result

    def existing(self) -> dict[Any, set[Any]]:
        return {m: set(m._base_manager.values_list("pk", flat=True)) for m in self._models()}

    def restore(self) -> Any:
        from django.core.management.color import no_style
        from django.db import transaction

        from backoffice.org.models import PolicyVersion
        from backoffice.org.services import LoadResult

        with transaction.atomic():  # foreign keys are checked at commit, in any order
            for model, rows in self.rows:
                columns = self._columns(model)
                model._base_manager.bulk_create(
                    [model(**dict(zip(columns, r, strict=True))) for r in rows]
                )
            models = [model for model, _ in self.rows]
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(sql)
        version = PolicyVersion.objects.get(number=self.result.version.number)
        return LoadResult(version, list(self.result.changes))


_demo_snapshot: dict[str, _Snapshot] = {}


@pytest.fixture
def demo_bank(db: Any) -> Any:
    """The demo bank's organisation in the database, loaded through the real service once
    per worker and database, then restored from the rows that load wrote."""
    return load_demo_bank()


def load_demo_bank() -> Any:
    """``demo_bank`` for fixtures that hold the database otherwise (the browser tests'
    live server: committed, not inside a test's transaction)."""
    from backoffice.org.services import do_load_policy

    snapshot = _demo_snapshot.get(connection.vendor)
    if snapshot is not None:
        return snapshot.restore()
    snapshot = _Snapshot()
    before = snapshot.existing()
    result = do_load_policy(DEMO_POLICY.read_bytes(), str(DEMO_POLICY), actor="test:setup")
    snapshot.take(before, result)
    _demo_snapshot[connection.vendor] = snapshot
    return result


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
