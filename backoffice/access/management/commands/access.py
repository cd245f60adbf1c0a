"""``backoffice access review …`` (recertification campaigns) and ``backoffice access
emergency …`` (break-glass access; ``access/emergency_cli.py``), both #15.

The shell is trusted as for ``walls expire``: what it starts is on the audit chain under
``cli:<user>``. Decisions are made by the reviewers themselves (web page, API).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from backoffice.access.emergency_cli import add_emergency_parser, handle_emergency
from backoffice.access.services import (
    REVIEW_STATUSES,
    do_start_review,
    get_review_report,
    get_review_summary,
)
from backoffice.base.actor import cli_actor
from backoffice.core import csvsafe
from backoffice.core.errors import DomainError

REPORT_COLUMNS = (
    "id",
    "campaign",
    "person",
    "role",
    "valid_from",
    "criticality",
    "critical_function",
    "reviewer",
    "manager",
    "unit",
    "due",
    "status",
    "suspended",
    "decided_at",
    "reason",
    "case",
)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--as-of: {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Access governance: recertification campaigns (RECERT-1, RECERT-2), emergency access."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="area", required=True)
        review = sub.add_parser("review", help="access recertification")
        actions = review.add_subparsers(dest="action", required=True)
        start = actions.add_parser(
            "start", help="create a review item for every assignment that is due"
        )
        start.add_argument("--as-of", help="the campaign's day (default: today)")
        report = actions.add_parser("report", help="review items as CSV")
        report.add_argument("--status", default="all", help="|".join(REVIEW_STATUSES))
        actions.add_parser(
            "summary", help="completion per reviewer and unit, rubber-stamp flags (JSON)"
        )
        add_emergency_parser(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["area"] == "emergency":
            handle_emergency(options, self.stdout)
            return
        try:
            if options["action"] == "start":
                day = _day(options["as_of"]) if options.get("as_of") else None
                started = do_start_review(cli_actor(), day=day)
                assert started.campaign is not None
                for name in started.unassigned:
                    self.stdout.write(f"no reviewer may review {name}")
                self.stdout.write(
                    f"campaign {started.campaign.pk}: {started.items} review item(s), "
                    f"due {started.campaign.due}"
                )
            elif options["action"] == "report":
                rows = get_review_report(cli_actor(), options["status"]).all_rows()
                out = csvsafe.writer(self.stdout)
                out.writerow(REPORT_COLUMNS)
                for row in rows:
                    out.writerow(["" if row[c] is None else row[c] for c in REPORT_COLUMNS])
            else:
                summary = get_review_summary(cli_actor())
                self.stdout.write(json.dumps(summary, cls=DjangoJSONEncoder, indent=2))
        except DomainError as exc:
            fields = [f"--{e['field'].replace('_', '-')}" for e in exc.errors if e.get("field")]
            where = f"{', '.join(fields)}: " if fields else ""
            sys.stderr.write(f"access review: {where}{exc.message}\n")
            raise SystemExit(2) from None
        except ValueError as exc:
            sys.stderr.write(f"access review: {exc}\n")
            raise SystemExit(2) from None
