"""``backoffice token create USERNAME`` (printed once) and ``backoffice token revoke PREFIX``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.accounts.models import ApiToken
from backoffice.accounts.services import do_create_token, do_revoke_token
from backoffice.ops.management.commands.init import cli_actor


class Command(BaseCommand):
    help = "Create or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token; it is printed once")
        create.add_argument("username")
        create.add_argument("--name", default="")
        revoke = sub.add_parser("revoke", help="revoke every token starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            try:
                user = get_user_model().objects.get(username=options["username"], is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no active user {options['username']!r}") from None
            self.stdout.write(do_create_token(user, name=options["name"], actor=cli_actor()))
            return
        rows = list(ApiToken.objects.filter(prefix__startswith=options["prefix"], revoked_at=None))
        if not rows:
            raise CommandError(f"no active token starts with {options['prefix']!r}")
        for row in rows:
            do_revoke_token(row, actor=cli_actor())
        self.stdout.write(f"revoked {len(rows)} token(s)")
