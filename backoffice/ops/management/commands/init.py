"""``backoffice init [--policy FILE]``: create or migrate the database, then load a policy.

#13: on a database without a live policy, the policy's ``bootstrap`` section names the
first two administrators; each gets a set-password link by e-mail. There is no superuser
and no other way to the first logins.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from backoffice.audit.dbroles import do_create_database_roles
from backoffice.base.actor import cli_actor
from backoffice.core.errors import DomainError
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.org.services import SeparationViolated, do_load_policy, live_policy

DEMO_POLICY = Path(__file__).resolve().parents[3] / "policies" / "demo-bank.yaml"
#: #16: the demo retailer (``backoffice demo --policy retail``)
RETAIL_POLICY = DEMO_POLICY.with_name("demo-retail.yaml")


def load_policy_file(path: str | Path, actor: str) -> str:
    """Load a policy from a file; raise ``CommandError`` listing every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read the policy: {exc.strerror}") from None
    try:
        result = do_load_policy(raw, str(path), actor=actor)
    except PolicyInvalid as exc:
        raise CommandError(f"the policy was not loaded:\n{exc}") from None
    except DomainError as exc:
        raise CommandError(f"{path}: {exc.message}") from None
    except SeparationViolated as exc:
        lines = "\n".join(f"{path}: {v.rule}: {v.message}" for v in exc.violations)
        raise CommandError(
            f"the policy breaks separation rules and was not loaded:\n{lines}"
        ) from None
    if result.version is None:
        return f"{path}: unchanged, already loaded"
    return (
        f"{path}: loaded as policy version {result.version.number} ({len(result.changes)} changes)"
    )


class Command(BaseCommand):
    help = "Create or migrate the database and load a policy (default: none; see --policy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policy", help="policy YAML file to load after migrating")
        parser.add_argument(
            "--demo-policy", action="store_true", help="load the shipped demo bank policy"
        )
        parser.add_argument(
            "--create-roles",
            action="store_true",
            help="PostgreSQL: first create the owner and the server's role and the database, "
            "as the superuser of BACKOFFICE_ADMIN_DATABASE_URL (docs/production.md)",
        )
        # the demo gives every demo person a published password instead (ops.demo)
        parser.add_argument("--no-bootstrap-links", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["create_roles"]:
            self.create_database_roles()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database is migrated")
        call_command("collectstatic", interactive=False, verbosity=0)
        policy = options["policy"] or (DEMO_POLICY if options["demo_policy"] else None)
        if not policy:
            return
        actor = cli_actor()
        with transaction.atomic():
            first = live_policy() is None
            self.stdout.write(load_policy_file(policy, actor))
            # the refusal rolls the load back: a fresh install never lacks its administrators
            admins = bootstrap_administrators(policy) if first else []
            if first and not options["no_bootstrap_links"]:
                from backoffice.accounts.services import do_send_set_password_links

                do_send_set_password_links(
                    admins, actor=actor, reason="bootstrap administrator of a fresh install"
                )
        for user in admins if not options["no_bootstrap_links"] else []:
            self.stdout.write(f"sent a set-password link to {user.username} <{user.email}>")

    def create_database_roles(self) -> None:
        """#13: least privilege; the server's role may only append to the audit tables."""
        admin_url = os.environ.get("BACKOFFICE_ADMIN_DATABASE_URL")
        if not admin_url:
            raise CommandError(
                "--create-roles needs BACKOFFICE_ADMIN_DATABASE_URL, a superuser's connection"
            )
        for line in do_create_database_roles(admin_url):
            self.stdout.write(line)


def bootstrap_administrators(path: str | Path) -> list[Any]:
    """#13: the first administrators the policy names: two different people at least."""
    document = parse_policy(Path(path).read_bytes(), str(path))
    named = document.policy.bootstrap.administrators if document.policy.bootstrap else []
    if len(set(named)) < 2:
        raise CommandError(
            f"{path}: a fresh install needs two administrators in the policy's bootstrap "
            "section (bootstrap: {administrators: [a, b]}); Backoffice has no superuser. "
            "Nothing was loaded."
        )
    return list(get_user_model().objects.filter(username__in=named).order_by("username"))
