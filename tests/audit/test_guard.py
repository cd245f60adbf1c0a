"""#4: the audit tables are append-only, in the ORM and in the database itself."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from backoffice.audit import guard
from backoffice.audit.models import AppendOnlyError, AuditEvent, Checkpoint
from backoffice.audit.queries import verify_database
from backoffice.audit.services import record


def run(statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.django_db
def test_the_guard_triggers_are_in_place_after_all_migrations() -> None:
    expected = guard.expected_triggers(connection.vendor)
    assert expected and guard.armed_triggers(connection) == expected


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'edited' WHERE seq = 3",
        "UPDATE audit_auditevent SET seq = seq + 100",
        "DELETE FROM audit_auditevent WHERE seq = 3",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_checkpoint SET seq = 1",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_the_database_refuses_update_and_delete(checkpointed: Checkpoint, statement: str) -> None:
    with pytest.raises(IntegrityError, match="append-only"):
        run(statement)
    assert AuditEvent.objects.count() == 13 and verify_database().ok


@pytest.mark.postgres
@pytest.mark.parametrize("table", guard.TABLES)
def test_postgres_refuses_truncate(checkpointed: Checkpoint, table: str) -> None:
    with pytest.raises(IntegrityError, match="append-only: TRUNCATE"):
        run(f"TRUNCATE {table}")


_COLUMNS = (
    "seq, at, actor, on_behalf_of, action, object_type, object_id, before, after, reason, "
    "request_id, prev_hash, hash"
)


def _copy_of_5(seq: str = "seq", hash_: str = "hash") -> str:
    """Event #5 with another actor: what an INSERT that overwrites would leave behind."""
    columns = f"{seq}, at, 'someone.else', on_behalf_of, action, object_type, object_id, " + (
        f"before, after, reason, request_id, prev_hash, {hash_}"
    )
    return f"SELECT {columns} FROM audit_auditevent WHERE seq = 5"  # noqa: S608 - constants


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "statement",
    [
        f"INSERT OR REPLACE INTO audit_auditevent ({_COLUMNS}) {_copy_of_5()}",
        f"REPLACE INTO audit_auditevent ({_COLUMNS}) {_copy_of_5()}",
        # A new seq with #5's hash: the REPLACE would delete #5 to make room.
        f"INSERT OR REPLACE INTO audit_auditevent ({_COLUMNS}) {_copy_of_5(seq='99')}",
        "INSERT OR REPLACE INTO audit_checkpoint (id, seq, hash, at, key, signature) "
        "SELECT id, 1, hash, at, key, signature FROM audit_checkpoint",
    ],
)
def test_sqlite_refuses_an_insert_that_would_replace_an_audit_row(
    checkpointed: Checkpoint, statement: str
) -> None:
    # #13: REPLACE deletes the row in its way without firing DELETE triggers.
    with pytest.raises(IntegrityError, match="append-only: replacing a row"):
        run(statement)
    assert AuditEvent.objects.get(seq=5).actor == "maria.keller"
    assert Checkpoint.objects.get().seq == 12
    assert verify_database().ok


def test_an_upsert_cannot_rewrite_an_audit_row(checkpointed: Checkpoint) -> None:
    upsert = (
        f"INSERT INTO audit_auditevent ({_COLUMNS}) {_copy_of_5()} "
        "ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor"
    )
    with pytest.raises(IntegrityError, match="append-only"):
        run(upsert)
    assert AuditEvent.objects.get(seq=5).actor == "maria.keller"


def test_the_orm_refuses_to_change_or_delete_events(chain: list[AuditEvent]) -> None:
    event = AuditEvent.objects.get(seq=2)
    event.reason = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=2).update(reason="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(seq=2).reason == "step 2"


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_write_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record("test.x", actor="a", object_type="t", object_id=1)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_tables_and_puts_the_guard_back() -> None:
    # What the test runner does after every transactional test (SQLite: DELETE FROM ...).
    with transaction.atomic():
        record("test.x", actor="a", object_type="t", object_id=1)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert guard.armed_triggers(connection) == guard.expected_triggers(connection.vendor)
    with transaction.atomic():
        record("test.y", actor="a", object_type="t", object_id=2)
    with pytest.raises(IntegrityError):
        run("DELETE FROM audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_the_guard_migration_can_be_reversed_and_reapplied() -> None:
    call_command("migrate", "audit", "0001", verbosity=0)
    assert guard.armed_triggers(connection) == set()
    call_command("migrate", "audit", verbosity=0)
    assert guard.armed_triggers(connection) == guard.expected_triggers(connection.vendor)
