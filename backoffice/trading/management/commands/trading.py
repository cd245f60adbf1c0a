"""``backoffice trading import-confirmations|import-prices FILE --as PERSON``.

The same services as the API: settlement imports counterparty confirmations (TRD-2),
trade or risk control imports reference prices (TRD-3). A bad row: exit 2 with the file,
line and field, and nothing written; a refusal (wrong role, COOL-1): exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.base.actor import Actor
from backoffice.base.context import request_scope
from backoffice.core.errors import DomainError, http_status_for
from backoffice.trading.services import do_import_confirmations, do_import_reference_prices


class Command(BaseCommand):
    help = "Trading and settlement: import counterparty confirmations or reference prices (CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, what in (
            ("import-confirmations", "counterparty confirmations (settlement, TRD-2)"),
            ("import-prices", "reference prices per instrument and day (control, TRD-3)"),
        ):
            command = sub.add_parser(name, help=f"import {what}")
            command.add_argument("file", help="a CSV file with a header row")
            command.add_argument("--as", dest="person", required=True, help="who imports")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["person"], is_active=True).first()
        if user is None:
            raise CommandError(
                f"--as: there is no active person {options['person']!r}", returncode=2
            )
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read it: {exc}", returncode=2) from None
        with request_scope():
            try:
                if options["action"] == "import-confirmations":
                    trades = do_import_confirmations(Actor(user), text, str(path))
                    confirmed = sum(1 for t in trades if t.confirmation == "confirmed")
                    self.stdout.write(
                        f"{len(trades)} confirmation(s) matched: {confirmed} confirmed, "
                        f"{len(trades) - confirmed} mismatched"
                    )
                else:
                    prices = do_import_reference_prices(Actor(user), text, str(path))
                    self.stdout.write(f"{len(prices)} reference price(s) imported")
            except DomainError as exc:
                code = 2 if http_status_for(exc.code) in (404, 422) else 1
                raise CommandError(f"{exc.code}: {exc.message}", returncode=code) from None
