"""#4: concurrent writers leave one linear chain without gaps.

PostgreSQL serialises appends with an advisory lock; SQLite with its write lock.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import verify_database
from backoffice.audit.services import record
from tests.support import cli_env, run_cli, scratch_database

WRITERS = 8
EACH = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_leave_one_valid_chain() -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    record("test.write", actor=f"writer{n}", object_type="case", object_id=i)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))
    outcome = verify_database()
    assert outcome.ok and outcome.events == WRITERS * EACH
    actors = set(AuditEvent.objects.values_list("actor", flat=True))
    assert actors == {f"writer{n}" for n in range(WRITERS)}


WRITER = """
import sys, time, pathlib, django
django.setup()
from django.db import transaction
from backoffice.audit.services import record
from tests.support import cli_env, run_cli, scratch_database
n, here = sys.argv[1], pathlib.Path(sys.argv[2])
(here / f"ready-{n}").touch()
for _ in range(3000):
    if (here / "go").exists():
        break
    time.sleep(0.01)
for i in range(%d):
    with transaction.atomic():
        record("test.write", actor=f"process{n}", object_type="case", object_id=i)
"""


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_eight_writer_processes_on_sqlite_leave_one_valid_chain(tmp_path: Path) -> None:
    """SQLite's in-memory test database cannot be shared by threads, so: processes on a
    file, as deployed; IMMEDIATE transactions queue the writers."""
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var")
        assert run_cli("migrate", env=env).returncode == 0
        writers = [
            subprocess.Popen([sys.executable, "-c", WRITER % EACH, str(n), str(tmp_path)], env=env)
            for n in range(WRITERS)
        ]
        for _ in range(3000):
            if all((tmp_path / f"ready-{n}").exists() for n in range(WRITERS)):
                break
            time.sleep(0.01)
        (tmp_path / "go").touch()
        assert [w.wait(timeout=120) for w in writers] == [0] * WRITERS
        result = run_cli("audit", "verify", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK: {WRITERS * EACH} events (#1..#{WRITERS * EACH})")
