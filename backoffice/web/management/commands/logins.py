"""``backoffice logins list|lift|purge``: login lock-outs and the records behind them (#13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.base.actor import cli_actor
from backoffice.core.errors import DomainError
from backoffice.web.services import do_lift_lockout, do_purge_login_records, get_lockouts


class Command(BaseCommand):
    help = "Login lock-outs: list them, lift one (on record), purge old login records."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="the user names and addresses locked out now")
        lift = sub.add_parser(
            "lift", help="give a user name its login attempts back (from one address or all)"
        )
        lift.add_argument("username")
        lift.add_argument("--ip", default=None, help="only from this client address")
        lift.add_argument("--reason", required=True, help="why; it goes into the audit trail")
        purge = sub.add_parser(
            "purge", help="delete login records older than the retention period (run it daily)"
        )
        purge.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep this many days instead of BACKOFFICE_LOGIN_RECORDS_DAYS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            rows = get_lockouts()
            for row in rows:
                self.stdout.write(
                    f"{row.username}\t{row.ip_address or '-'}\t{row.failures} failures\t"
                    f"until {row.until:%Y-%m-%d %H:%M:%S %Z}"
                )
            self.stdout.write(f"{len(rows)} lock-out(s)")
        elif action == "lift":
            try:
                forgiven = do_lift_lockout(
                    cli_actor(), options["username"], options["ip"], options["reason"]
                )
            except DomainError as exc:
                raise CommandError(f"{exc.message} ({exc.code})") from None
            self.stdout.write(f"lifted: {forgiven} failed login(s) of {options['username']}")
        else:
            days = options["days"]
            try:
                deleted = do_purge_login_records(
                    actor=cli_actor(), older_than=None if days is None else timedelta(days=days)
                )
            except DomainError as exc:
                raise CommandError(f"{exc.message} ({exc.code})") from None
            self.stdout.write(
                "purged: {attempts} attempt(s), {failures} failure(s), {logins} login(s)".format(
                    **deleted
                )
            )
