"""``backoffice walls expire``: write down the end of every wall crossing whose time is up."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.base.actor import cli_actor
from backoffice.walls.services import do_expire_crossings


class Command(BaseCommand):
    help = "Chinese walls: expire (record the end of crossings whose time is up; CW-2)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "expire",
            help="end every wall crossing past its end, one audit event each (run it daily)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ended = do_expire_crossings(actor=cli_actor())
        for crossing in ended:
            self.stdout.write(
                f"ended crossing {crossing.pk}: {crossing.user.username} "
                f"(until {crossing.valid_to:%Y-%m-%d %H:%M})"
            )
        self.stdout.write(f"{len(ended)} wall crossing(s) expired")
