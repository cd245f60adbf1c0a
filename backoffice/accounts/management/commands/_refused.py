"""Django commands that would change logins from the shell, refused (#13)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

__all__ = ["RefusedCommand"]


class RefusedCommand(BaseCommand):
    """Whoever has a shell is not thereby an administrator: logins change through four-eyes
    ``user-admin`` cases, the first two administrators come from the policy's ``bootstrap``."""

    refusal = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*")
        # accept Django's options so that scripts get the refusal, not a usage error
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--database")
        parser.add_argument("--noinput", "--no-input", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from backoffice.audit.services import do_record_denial
        from backoffice.base.actor import cli_actor

        # no database yet: nothing to protect, nothing to record
        with contextlib.suppress(DatabaseError):
            do_record_denial(
                "accounts.command_refused",
                actor=cli_actor(),
                object_type="command",
                object_id=self._name(),
                reason=self.refusal,
            )
        raise CommandError(f"{self.refusal} See docs/identities.md.")

    def _name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]
