"""``backoffice demo``: set up the demo bank (database, policy, users) and serve it.

#16: ``--policy retail`` sets up the demo retailer Musterhandel GmbH instead, from the same
engine; the bank stays the default. One database holds one demo: the retailer needs a var
directory of its own (``BACKOFFICE_VAR_DIR``) when the bank was set up there before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from backoffice.audit.services import do_checkpoint, record
from backoffice.audit.signing import do_generate_signing_key, key_path, load_signing_key
from backoffice.credit.demo import seed_demo_credit
from backoffice.ops.demo import DEMO_LOGINS, DEMO_PASSWORD, RETAIL_LOGINS, RETAIL_PASSWORD
from backoffice.ops.management.commands.init import DEMO_POLICY, RETAIL_POLICY, cli_actor
from backoffice.ops.retail_seed import seed_retail_cases
from backoffice.ops.seed import seed_demo_cases
from backoffice.trading.demo import seed_demo_trading
from backoffice.walls.seed import seed_demo_walls


class Command(BaseCommand):
    help = "Set up the demo bank Musterbank AG and serve it on http://127.0.0.1:8000/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        parser.add_argument(
            "--policy",
            choices=("bank", "retail"),
            default="bank",
            help="which demo: the bank Musterbank AG (default) or the retailer Musterhandel GmbH",
        )
        parser.add_argument(
            "--with-mail",
            action="store_true",
            help="#18: a local SMTP sink; the mails sent are shown at /demo/mail/",
        )
        parser.add_argument("--mail-port", type=int, default=8025, help="the sink's SMTP port")
        parser.add_argument("--no-worker", action="store_true", help="serve without the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["policy"] == "retail":
            self._retail(options)
            return
        # init refuses the demo policy where another one is live: this never runs on a bank
        call_command("init", policy=str(DEMO_POLICY), no_bootstrap_links=True, stdout=self.stdout)
        self._passwords(DEMO_POLICY.name, DEMO_PASSWORD)
        created = seed_demo_cases()
        if created:
            self.stdout.write(f"seeded {created} demo cases")
            self.stdout.write(seed_demo_walls())  # #8: deal projects, lists, a crossing
        credits = seed_demo_credit()  # #5: borrowers and credit cases for the registers
        if credits:
            self.stdout.write(f"seeded {credits} demo credit cases")
        trades = seed_demo_trading()  # #17: trades, reference prices, off-market, unconfirmed
        if trades:
            self.stdout.write(f"seeded {trades} demo trades")
        self._checkpoint()
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, what in DEMO_LOGINS:
            self.stdout.write(f"  {username:<17} {what}")
        self.stdout.write("")
        if not options["no_serve"]:
            self._serve(options)

    def _serve(self, options: dict[str, Any]) -> None:
        """#18: the server, and beside it the worker that sends mail and webhooks; with
        ``--with-mail`` both send to a local SMTP sink whose mails a page shows."""
        env, sink = dict(os.environ), None
        env.setdefault("BACKOFFICE_URL", f"http://{options['host']}:{options['port']}")
        if options["with_mail"]:
            from backoffice.notify.sink import start_sink

            folder = settings.VAR_DIR / "mail-sink"
            sink = start_sink(folder, options["mail_port"])
            env["BACKOFFICE_SMTP_URL"] = f"smtp://127.0.0.1:{options['mail_port']}"
            settings.MAIL_SINK_DIR = str(folder)
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", options["mail_port"]
            self.stdout.write(
                f"mail goes to a local SMTP sink on port {options['mail_port']}; "
                f"see http://{options['host']}:{options['port']}/demo/mail/"
            )
        worker = None
        if not options["no_worker"]:
            log = settings.VAR_DIR / "worker.log"  # without --with-mail the mails print there
            self.stdout.write(f"the worker sends mail and webhooks; its log: {log}")
            with log.open("ab") as out:
                worker = subprocess.Popen(  # the same interpreter, this project's CLI
                    [sys.executable, "-m", "backoffice.cli", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        try:
            call_command("serve", host=options["host"], port=options["port"], stdout=self.stdout)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            if sink is not None:
                sink.stop()

    def _retail(self, options: dict[str, Any]) -> None:
        """#16: the demo retailer, set up and served like the bank."""
        call_command("init", policy=str(RETAIL_POLICY), no_bootstrap_links=True, stdout=self.stdout)
        self._passwords(RETAIL_POLICY.name, RETAIL_PASSWORD)
        created = seed_retail_cases()
        if created:
            self.stdout.write(f"seeded {created} demo cases")
        self._checkpoint()
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {RETAIL_PASSWORD}):")
        for username, what in RETAIL_LOGINS:
            self.stdout.write(f"  {username:<17} {what}")
        self.stdout.write("")
        if not options["no_serve"]:
            self._serve(options)

    @transaction.atomic
    def _passwords(self, policy_name: str, password: str) -> None:
        """Demo only: every person of the demo policy who has no password yet gets the
        printed one. Nobody is a superuser or staff (#13); nobody who ever logged in or has a
        password is touched, and the setting is on the audit chain."""
        users = list(
            get_user_model().objects.filter(profile__isnull=False, profile__source="policy")
        )
        fresh = [u for u in users if not u.has_usable_password() and u.last_login is None]
        for user in fresh:
            user.set_password(password)
            user.save(update_fields=["password"])
        if fresh:
            record(
                "ops.demo.passwords_set",
                actor=cli_actor(),
                object_type="policy",
                object_id=policy_name,
                after={"people": sorted(user.username for user in fresh)},
                reason=f"backoffice demo: the published demo password of {policy_name}",
            )

    def _checkpoint(self) -> None:
        """#4: the demo signs its audit trail's head, with a key of its own under ./var/, so
        `backoffice audit verify` has a signed checkpoint to check from the first start."""
        path = key_path()
        if not path.exists():
            do_generate_signing_key(path)
            self.stdout.write(f"created the audit signing key {path} (demo; keep it secret)")
        if do_checkpoint(load_signing_key(path), actor="demo") is not None:
            self.stdout.write("signed an audit checkpoint")
