"""Fixtures for the audit trail: a small chain, a signing key, and an attacker's hands."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection, transaction

from backoffice.audit import guard
from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import do_checkpoint, record
from backoffice.audit.signing import do_generate_signing_key
from backoffice.core.audit import event_hash


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: SQLite only (the PostgreSQL pass deselects it)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mirror of the ``postgres`` marker: what only SQLite needs runs in the SQLite pass."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    dropped = [item for item in items if item.get_closest_marker("sqlite")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite")]


#: How many events the ``chain`` fixture writes.
CHAIN_LENGTH = 12


@pytest.fixture
def signing_key(tmp_path: Path, settings: Any) -> Ed25519PrivateKey:
    """A fresh checkpoint key, configured as the application's."""
    settings.AUDIT_SIGNING_KEY = tmp_path / "keys" / "audit-signing-key.pem"
    return do_generate_signing_key(settings.AUDIT_SIGNING_KEY)


@pytest.fixture
def chain(db: Any) -> list[AuditEvent]:
    """Twelve events of different shapes, each in its own transaction."""
    events = []
    for n in range(1, CHAIN_LENGTH + 1):
        with transaction.atomic():
            events.append(
                record(
                    "test.thing.changed" if n % 3 else "test.thing.created",
                    actor="maria.keller" if n % 2 else "lena.schulz",
                    on_behalf_of="anna.schmidt" if n == 4 else "",
                    object_type="case" if n % 4 else "unit",
                    object_id=n // 2,
                    before={"amount": n * 1000, "state": "draft"} if n > 1 else None,
                    after={"amount": n * 1000 + 1, "state": "released", "note": "Grüße ✓"},
                    reason=f"step {n}",
                )
            )
    return events


@pytest.fixture
def checkpointed(chain: list[AuditEvent], signing_key: Ed25519PrivateKey) -> Checkpoint:
    """The chain, signed at its head (#12; the checkpoint's own event is #13)."""
    checkpoint = do_checkpoint(signing_key, actor="test:auditor")
    assert checkpoint is not None
    return checkpoint


@contextmanager
def attacker() -> Iterator[Callable[..., None]]:
    """Raw SQL with the guard out of the way, as a database superuser would do it.

    PostgreSQL: ``session_replication_role = replica`` skips ordinary triggers for the
    transaction. SQLite: drop the triggers and create them again afterwards.
    """

    def sql(statement: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])

    with transaction.atomic():
        if connection.vendor == "postgresql":
            sql("SET LOCAL session_replication_role = replica")
        else:
            for name in guard.expected_triggers("sqlite"):
                sql(f"DROP TRIGGER {name}")
        yield sql
        if connection.vendor == "postgresql":
            sql("SET LOCAL session_replication_role = origin")
        else:
            guard.install(connection)


def rehash(seq: int) -> str:
    """What a careful attacker does after editing #seq: recompute and store its hash."""
    event = AuditEvent.objects.get(seq=seq)
    digest = event_hash(event.to_chained())
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET hash = %s WHERE seq = %s", [digest, seq])
    return digest


def audit(*args: str) -> tuple[int, str, str]:
    """``backoffice audit ARGS``: the exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def key_file(tmp_path: Path, settings: Any) -> Path:
    """Where ``audit keygen`` will write the application's key (not written yet)."""
    settings.AUDIT_SIGNING_KEY = tmp_path / "var" / "audit-signing-key.pem"
    return Path(settings.AUDIT_SIGNING_KEY)
