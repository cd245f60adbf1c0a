"""``backoffice policy check FILE``, ``policy verify FILE`` and ``policy load FILE``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.base.actor import cli_actor
from backoffice.ops.management.commands.init import load_policy_file
from backoffice.policy_cli import policy_check, policy_verify


class Command(BaseCommand):
    help = "Check a policy file (all problems, with file:line:col) or load it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="validate a policy; exit 1 on any problem")
        check.add_argument("file", nargs="+")
        verify = sub.add_parser(
            "verify", help="prove no process can be completed by one person; exit 1 if not"
        )
        verify.add_argument("file")
        verify.add_argument("--show-roles", action="store_true")
        load = sub.add_parser("load", help="apply a policy to the database (bootstrap only)")
        load.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            status = policy_check(options["file"], out=self.stdout)
            if status:
                raise SystemExit(status)
            return
        if options["action"] == "verify":
            status = policy_verify(
                [options["file"]] + (["--show-roles"] if options["show_roles"] else []),
                out=self.stdout,
            )
            if status:
                raise SystemExit(status)
            return
        self.stdout.write(load_policy_file(options["file"], cli_actor()))
