"""``backoffice jobs sweep``: fail jobs whose worker died, delete results past retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from typing_extensions import override

from backoffice.jobs.services import do_sweep_jobs


class Command(BaseCommand):
    help = "Background jobs (#19): sweep fails stale jobs and deletes expired result files."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="run it daily; the worker also sweeps before each job")

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        deleted = do_sweep_jobs()
        self.stdout.write(f"{deleted} result file(s) past retention deleted")
