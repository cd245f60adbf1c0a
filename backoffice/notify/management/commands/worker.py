"""``backoffice worker``: send mail, reminders, digests and webhooks from the outbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.notify.worker import run_worker


class Command(BaseCommand):
    help = "Run the background worker (mail, reminders, digests, webhooks) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run what is due, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Backoffice worker: sending from the outbox (Ctrl+C stops)")
        self.stdout.flush()
        run_worker(batch=options["batch"], interval=options["interval"])
