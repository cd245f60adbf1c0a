"""Django's ``flush``, able to empty the append-only audit tables as well.

The test runner flushes the database after every transactional test (SQLite: DELETE,
which the audit triggers refuse). Flushing wipes every table by design, so for its own
transaction it lifts the audit guard and puts it back before committing. Lifting the
guard takes the owner of the tables: the server's role is refused (#13).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from backoffice.audit import dbroles, guard


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        dbroles.check_owns_tables(connection, "flush")
        with guard.lifted(connection):
            super().handle(**options)
