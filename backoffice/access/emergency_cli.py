"""``backoffice access emergency start|end|review|list|log`` (#15 part 2, EMERG-1..4).

The shell is where break-glass happens when the web is down, so each subcommand names
the person it acts as (``--as``); the services decide exactly as for the web and the API
(the emergency list, the maximum, the critical risks, the controller) and record
refusals. Bad input exits 2, a refusal 1; nothing is half-written.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from backoffice.access.services import (
    EMERGENCY_STATUSES,
    do_end_emergency,
    do_review_emergency,
    do_start_emergency,
    get_emergency_log,
    get_emergency_report,
)
from backoffice.base.actor import Actor
from backoffice.base.context import request_scope
from backoffice.core.csvsafe import writer
from backoffice.core.errors import DomainError, http_status_for

__all__ = ["add_emergency_parser", "handle_emergency", "COLUMNS"]

COLUMNS = (
    "session",
    "person",
    "role",
    "state",
    "started_at",
    "ends_at",
    "planned_end",
    "ended_by",
    "review_due",
    "reviewed_by",
    "reviewed_at",
    "reason",
    "review_note",
)


def add_emergency_parser(sub: Any) -> None:
    """The ``emergency`` subcommand and its own subcommands."""
    emergency = sub.add_parser("emergency", help="emergency access (break-glass, firefighter)")
    actions = emergency.add_subparsers(dest="emergency_action", required=True)
    start = actions.add_parser("start", help="take a role at once (listed people only)")
    start.add_argument("--as", dest="person", required=True, help="the person taking it")
    start.add_argument("--role", required=True)
    start.add_argument("--minutes", type=int, required=True, help="at most the policy's max")
    start.add_argument("--reason", required=True)
    end = actions.add_parser("end", help="end a running session now")
    end.add_argument("session")
    end.add_argument("--as", dest="person", required=True)
    review = actions.add_parser("review", help="a controller reviews an ended session's log")
    review.add_argument("session")
    review.add_argument("--as", dest="person", required=True, help="the controller")
    review.add_argument("--note", required=True)
    listing = actions.add_parser("list", help="sessions by status (controllers)")
    listing.add_argument("--as", dest="person", required=True)
    listing.add_argument("--status", choices=EMERGENCY_STATUSES, default="all")
    listing.add_argument("--format", choices=("text", "csv"), default="text")
    log = actions.add_parser("log", help="what was done under a session (controllers)")
    log.add_argument("session")
    log.add_argument("--as", dest="person", required=True)


def _actor(username: str) -> Actor:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"--as: there is no active person {username!r}", returncode=2)
    return Actor(user)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M %Z}" if value is not None else ""


def handle_emergency(options: dict[str, Any], out: Any) -> None:
    """Run one emergency subcommand; DomainErrors become exit 2 (bad input) or 1."""
    with request_scope():
        try:
            _run(options, out)
        except DomainError as exc:
            code = 2 if http_status_for(exc.code) in (404, 422) else 1
            raise CommandError(f"{exc.code}: {exc.message}", returncode=code) from None


def _run(options: dict[str, Any], out: Any) -> None:
    action = options["emergency_action"]
    actor = _actor(options["person"])
    if action == "start":
        s = do_start_emergency(actor, options["role"], options["minutes"], options["reason"])
        out.write(
            f"emergency session {s.pk}: {s.person.username} holds {s.role.key} until "
            f"{_when(s.ends_at)}; review due by {_when(s.review_due)}\n"
        )
    elif action == "end":
        s = do_end_emergency(actor, options["session"])
        out.write(f"emergency session {s.pk} ended at {_when(s.ends_at)}\n")
    elif action == "review":
        s = do_review_emergency(actor, options["session"], options["note"])
        out.write(f"emergency session {s.pk} reviewed by {actor.person}\n")
    elif action == "list":
        report = get_emergency_report(actor, options["status"])
        if options["format"] == "csv":
            csv_out = writer(out)
            csv_out.writerow(COLUMNS)
            for row in report.all_rows():
                csv_out.writerow(
                    [
                        v.isoformat() if isinstance(v, datetime) else v
                        for v in (row[c] for c in COLUMNS)
                    ]
                )
            return
        count = 0
        for row in report.all_rows():
            count += 1
            out.write(
                f"{row['session']:>6}  {row['state']:<10}  {row['person']:<20} "
                f"{row['role']:<20} {_when(row['started_at'])} → {_when(row['ends_at'])}  "
                f"review by {_when(row['review_due'])}"
                + (f"  reviewed by {row['reviewed_by']}" if row["reviewed_by"] else "")
                + "\n"
            )
        out.write(f"{count} emergency session(s) ({options['status']})\n")
    elif action == "log":
        session, events = get_emergency_log(actor, options["session"])
        out.write(
            f"emergency session {session.pk}: {session.person.username} as "
            f"{session.role.key}, {_when(session.started_at)} → {_when(session.ends_at)}\n"
        )
        for e in events:
            out.write(f"{e.seq:>8}  {_when(e.at)}  {e.action:<32} {e.object_type}:{e.object_id}\n")
        out.write(f"{len(events)} event(s) under the session\n")
    else:  # pragma: no cover - argparse allows no other
        sys.exit(2)
