"""``backoffice access …``: access governance from the shell (#15)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.access.emergency_cli import add_emergency_parser, handle_emergency


class Command(BaseCommand):
    help = "Access governance: emergency access (break-glass; docs/access.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add_emergency_parser(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "emergency":
            handle_emergency(options, self.stdout)
