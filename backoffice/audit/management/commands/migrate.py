"""Django's ``migrate``, run as the role that owns the tables (#13).

With ``BACKOFFICE_MIGRATE_DATABASE_URL`` set, it connects as that owner role instead of
the server's, and afterwards grants the server's role what it may do (``audit.dbroles``).
Without it, it refuses to run as a role that does not own the tables, with a message that
says what to set, rather than failing half-way or leaving the grants unapplied.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import connections

from backoffice.audit import dbroles


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with dbroles.migrating_as_owner(connection):
            dbroles.check_owns_tables(connection, "migrate")
            super().handle(*args, **options)
