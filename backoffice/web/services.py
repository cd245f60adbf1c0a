"""Login lock-outs (#13): who is locked out now, lifting a lock-out, purging old records.

django-axes keeps the attempts (per user name, client address and browser) in its own
tables; these services read and change them on record. ``core.logins`` decides who may
lift a lock-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from backoffice.audit.services import do_record_denial, record
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from backoffice.core.logins import LIFT_PERMISSION, check_lockout_lift

__all__ = [
    "LIFT_PERMISSION",
    "LOCKOUT_ORDER",
    "SYSTEM_ACTOR",
    "Lockout",
    "access_lockouts",
    "get_lockouts",
    "lockout_rows",
    "do_lift_lockout",
    "do_purge_login_records",
]

#: Who purges when nobody asked (the retention rule itself, on a failed login).
SYSTEM_ACTOR = "system:retention"


@dataclass(frozen=True)
class Lockout:
    """A user name and a client address that may not log in until ``until``."""

    username: str
    ip_address: str | None
    failures: int
    last_attempt: datetime
    until: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> Self:
        """One row of ``lockout_rows``."""
        until = row["last"] + settings.AXES_COOLOFF_TIME
        return cls(row["username"] or "", row["ip_address"], row["failures"], row["last"], until)


def _who(actor: Actor | str) -> tuple[str, frozenset[str]]:
    """A person acts with their permissions; a shell command (``cli:NAME``) is the operator
    of the servers, who can reach axes' tables anyway and is on record by that name."""
    if isinstance(actor, str):
        return actor, frozenset({LIFT_PERMISSION})
    return actor.person, actor.permissions


def _refuse(
    code: str, message: str, *, actor: str, object_type: str, object_id: str
) -> DomainError:
    """A refusal is on record (its own transaction) before it is raised."""
    do_record_denial(
        "auth.lockout_denied",
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        reason=f"{code}: {message}",
    )
    return DomainError(code, message)


def access_lockouts(user: Actor) -> None:
    """Only people with ``access.lockout.lift`` see who is locked out and from where."""
    who, permissions = _who(user)
    if LIFT_PERMISSION in permissions:
        return
    raise _refuse(
        "lockout.forbidden",
        "Only an administrator with the right to lift lock-outs may see them.",
        actor=who,
        object_type="login-records",
        object_id="lockouts",
    )


#: Lock-outs, the latest attempt first; ties go by the newest attempt row of each pair
#: (rows belong to one pair each, so that id is unique among the pairs: a keyset key).
LOCKOUT_ORDER = ("-last", "-newest")


def lockout_rows() -> QuerySet[AccessAttempt, dict[str, Any]]:
    """The name and address pairs locked out now, unordered (``LOCKOUT_ORDER`` pages them).

    The same sum axes takes: failures of one name from one address (any browser) since
    one cool-off ago, at or above the limit.
    """
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    rows: QuerySet[AccessAttempt, dict[str, Any]] = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"), newest=Max("pk"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return rows


def get_lockouts() -> list[Lockout]:
    """Every pair locked out now, latest attempt first (the operator's list in the shell)."""
    return [Lockout.of(r) for r in lockout_rows().order_by(*LOCKOUT_ORDER)]


def do_lift_lockout(actor: Actor | str, username: str, ip: str | None, reason: str) -> int:
    """Give ``username`` (from ``ip``, or from every address) its login attempts back.

    One administrator with ``access.lockout.lift``, never for themselves, and with a
    reason: it restores an attempt budget and changes no credential, so no four-eyes case
    (docs/audit.md, *Logins*). The event keeps which addresses were forgiven how many
    failures. Returns that number of failures.
    """
    who, permissions = _who(actor)
    username = username.strip()
    denied = check_lockout_lift(
        actor=who, permissions=permissions, username=username, reason=reason
    )
    if denied is not None:
        raise _refuse(
            denied.code, denied.message, actor=who, object_type="person", object_id=username
        )
    with transaction.atomic():
        attempts = AccessAttempt.objects.select_for_update().filter(username=username)
        if ip:
            attempts = attempts.filter(ip_address=ip)
        found = list(attempts.values_list("pk", "ip_address", "failures_since_start"))
        if found:
            per_address: dict[str, int] = {}
            for _pk, address, failures in found:
                per_address[address or ""] = per_address.get(address or "", 0) + failures
            AccessAttempt.objects.filter(pk__in=[pk for pk, _, _ in found]).delete()
            record(
                "auth.lockout_lifted",
                actor=who,
                object_type="person",
                object_id=username,
                before={
                    "attempts": [
                        {"ip_address": address, "failures": n}
                        for address, n in sorted(per_address.items())
                    ]
                },
                after={"ip_address": ip or "any", "failures": 0},
                reason=reason.strip(),
            )
            return sum(per_address.values())
    where = f" from {ip}" if ip else ""
    raise _refuse(
        "lockout.not_found",
        f"There are no failed logins of {username!r}{where} to forgive.",
        actor=who,
        object_type="person",
        object_id=username,
    )


def do_purge_login_records(*, actor: str, older_than: timedelta | None = None) -> dict[str, int]:
    """Delete axes' records of logins older than the retention period (#13).

    They hold user names with client addresses and browsers; past the retention they
    serve nothing. The audit events of the same logins and failures stay on the chain:
    they are the record. A purge that deleted something is itself on record.
    """
    older_than = settings.LOGIN_RECORDS_RETENTION if older_than is None else older_than
    if older_than < timedelta(days=1):
        # shorter would wipe the lock-outs of now too, without a lift on record for each
        raise DomainError("input.invalid", "Login records are kept for at least one day.")
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        counts = {
            "attempts": AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[1],
            "failures": AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[1],
            "logins": AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[1],
        }
        deleted = {
            "attempts": counts["attempts"].get("axes.AccessAttempt", 0),
            "failures": counts["failures"].get("axes.AccessFailureLog", 0),
            "logins": counts["logins"].get("axes.AccessLog", 0),
        }
        if any(deleted.values()):
            record(
                "auth.login_records_purged",
                actor=actor,
                object_type="login-records",
                object_id="axes",
                after=deleted | {"older_than_days": older_than.days, "cutoff": cutoff},
                reason="retention period",
            )
    return deleted
