"""``backoffice masterdata import KIND FILE [--dry-run]``: master data from a CSV file (#16).

Every bad row is reported as ``file:line: field: message`` and nothing is written (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.base.actor import cli_actor
from backoffice.core.master_csv import KINDS
from backoffice.masterdata.services import MasterDataInvalid, do_import_master_data


class Command(BaseCommand):
    help = "Import vendors, customers, items, stock locations or employees from CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="import a CSV file (all rows or none)")
        load.add_argument("kind", choices=sorted(KINDS))
        load.add_argument("file", type=Path)
        load.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file: {exc}", returncode=2) from None
        try:
            result = do_import_master_data(
                options["kind"], text, str(path), actor=cli_actor(), dry_run=options["dry_run"]
            )
        except MasterDataInvalid as exc:
            raise CommandError(
                f"{len(exc.problems)} problem(s), nothing was written:\n{exc}", returncode=2
            ) from None
        verb = "would create" if result.dry_run else "created"
        self.stdout.write(
            f"{path}: {verb} {len(result.created)}, "
            f"{'would update' if result.dry_run else 'updated'} {len(result.updated)}, "
            f"unchanged {result.unchanged} {result.kind}"
            + (" (dry run: nothing written)" if result.dry_run else "")
        )
