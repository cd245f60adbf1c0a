"""Database triggers that refuse UPDATE and DELETE (PostgreSQL: also TRUNCATE) on audit rows.

They stop the application, an administrator's slip and a script alike; a database superuser
can still lift them, which is why ``audit verify`` exists (and, #13, why on PostgreSQL the
server runs as a role that does not own the tables: ``audit.dbroles``). Installed by
migration ``0002``. On SQLite a migration that rebuilds an audit table drops its triggers,
so ``tests/audit/test_guard.py`` checks they are in place after all migrations.

SQLite's ``INSERT OR REPLACE`` deletes the row in its way without firing DELETE triggers
(#13: it rewrote an event with the guard in place), so a BEFORE INSERT trigger refuses any
insert whose key is taken already (migration ``0003``); PostgreSQL has no REPLACE, and its
``ON CONFLICT DO UPDATE`` fires the UPDATE trigger.

``flush`` (and so the test runner between transactional tests) empties every table: our
``flush`` command lifts the guard for its own transaction only (``lifted``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

__all__ = ["TABLES", "armed_triggers", "expected_triggers", "install", "lifted", "remove"]

TABLES = ("audit_auditevent", "audit_checkpoint")

#: The unique columns of each table: a new row may take none of their values.
_KEYS = {"audit_auditevent": ("seq", "hash"), "audit_checkpoint": ("id",)}

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def _triggers(vendor: str) -> list[tuple[str, str, str]]:
    """``(name, table, CREATE statement)`` of each guard trigger on this kind of database."""
    found = []
    for table in TABLES:
        if vendor == "postgresql":
            found += [
                (
                    f"{table}_append_only",
                    table,
                    f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                    f"ON {table} FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
                ),
                (
                    f"{table}_no_truncate",
                    table,
                    f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
                ),
            ]
        elif vendor == "sqlite":
            found += [
                (
                    f"{table}_no_{op.lower()}",
                    table,
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: {op} on {table} "
                    "is refused'); END",
                )
                for op in ("UPDATE", "DELETE")
            ]
            found.append(_sqlite_no_replace(table))
    return found


def _sqlite_no_replace(table: str) -> tuple[str, str, str]:
    # Table and column names are our constants, never input.
    taken = " OR ".join(f"{column} = NEW.{column}" for column in _KEYS[table])
    when = f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {taken})"  # noqa: S608
    create = (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} {when} "
        f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: replacing a row of "
        f"{table} is refused'); END"
    )
    return f"{table}_no_replace", table, create


def expected_triggers(vendor: str) -> set[str]:
    return {name for name, _, _ in _triggers(vendor)}


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
        for _, _, create in _triggers(connection.vendor):
            cursor.execute(create)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for name, table, _ in _triggers(connection.vendor):
            on = f" ON {table}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS audit_append_only()")


def armed_triggers(connection: Any) -> set[str]:
    """The guard triggers present and enabled right now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND c.relname IN (%s, %s)",
                list(TABLES),
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


@contextmanager
def lifted(connection: Any) -> Iterator[None]:
    """Without the guard inside one transaction; it is back on commit and on rollback."""
    with transaction.atomic(using=connection.alias):
        remove(connection)
        yield
        install(connection)
