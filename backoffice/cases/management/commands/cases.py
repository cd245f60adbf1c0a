"""``backoffice cases check``: every case agrees with its events and its audit events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.cases.consistency import check_cases
from backoffice.cases.models import Case


class Command(BaseCommand):
    help = "Check that every case agrees with its history and the audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="exit 1 and list every inconsistency")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(check_cases())
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise SystemExit(1)
        self.stdout.write(f"{Case.objects.count()} cases consistent with their events and audit")
