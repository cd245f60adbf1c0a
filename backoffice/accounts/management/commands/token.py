"""``backoffice token create USERNAME`` (one's own, printed once) and ``token revoke PREFIX``.

#13: a token is a credential. The shell does not make one for someone else: ``create`` asks
for USERNAME's password (from the terminal, or one line on stdin with ``--password-stdin``)
and makes that person's own token. A token for someone else is a four-eyes ``user-admin``
case, which mails it to the person. ``revoke`` stays an emergency brake from the shell: it
only takes access away, and it is on the audit chain.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import authenticate
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpRequest

from backoffice.accounts.models import ApiToken
from backoffice.accounts.services import do_create_own_token, do_revoke_token
from backoffice.base.actor import cli_actor


class Command(BaseCommand):
    help = "Create your own API token (with your password) or revoke tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="create USERNAME's own token, with their password; printed once"
        )
        create.add_argument("username")
        create.add_argument("--name", default="")
        create.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        revoke = sub.add_parser("revoke", help="revoke every token starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            password = (
                sys.stdin.readline().rstrip("\n")
                if options["password_stdin"]
                else getpass.getpass(f"Password of {options['username']}: ")
            )
            # the login backends decide (active, locked out); a failure is on the audit chain.
            # django-axes counts failures by name and address: the shell is this machine.
            shell = HttpRequest()
            shell.method, shell.path = "POST", "/cli/token"
            shell.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "backoffice token"}
            user = authenticate(shell, username=options["username"], password=password)
            if user is None:
                raise CommandError(
                    f"wrong password for {options['username']!r}, or no such active login; "
                    "a token for someone else is a user-admin case (docs/identities.md)"
                )
            self.stdout.write(do_create_own_token(user, name=options["name"]))
            return
        rows = list(ApiToken.objects.filter(prefix__startswith=options["prefix"], revoked_at=None))
        if not rows:
            raise CommandError(f"no active token starts with {options['prefix']!r}")
        for row in rows:
            do_revoke_token(row, actor=cli_actor(), reason="revoked from the shell")
        self.stdout.write(f"revoked {len(rows)} token(s)")
