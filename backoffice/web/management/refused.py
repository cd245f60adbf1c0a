"""django-axes' own reset commands, refused: they delete lock-outs and login records
without a trace. ``backoffice logins lift`` and ``logins purge`` do it on record (#13)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

__all__ = ["RefusedAxesCommand"]


class RefusedAxesCommand(BaseCommand):
    help = "Refused: use `backoffice logins lift` or `backoffice logins purge` (on record)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*")
        parser.add_argument("--age", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "axes' resets leave no trace; use `backoffice logins lift USERNAME --reason …` "
            "or `backoffice logins purge`, which are on record"
        )
