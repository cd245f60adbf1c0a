"""Login lock-outs (#13): who may lift one. Pure rules; ``web.services`` persists and asks.

A lock-out holds one user name and one client address after too many wrong passwords
(django-axes counts them). Lifting it gives that pair its attempts back before the
cool-off ends. It changes no credential, so it is one administrator's act on record, not
a four-eyes case (docs/audit.md, *Logins*) — but never one's own: whoever is locked out
waits or asks a colleague, so the person the lock protects cannot wave it away.
"""

from __future__ import annotations

from backoffice.core.errors import N_, Denied

__all__ = ["LIFT_PERMISSION", "check_lockout_lift"]

#: The permission that lets a person lift another person's lock-out.
LIFT_PERMISSION = "access.lockout.lift"


def check_lockout_lift(
    *, actor: str, permissions: frozenset[str], username: str, reason: str
) -> Denied | None:
    """None when ``actor`` may lift the lock-outs of ``username``, else why not."""
    if LIFT_PERMISSION not in permissions:
        return Denied(
            "lockout.forbidden",
            N_("Only an administrator with the right to lift lock-outs may lift one."),
        )
    if actor.casefold() == username.strip().casefold():
        return Denied(
            "lockout.own",
            N_("Nobody lifts their own lock-out: wait for it to end or ask another administrator."),
        )
    if not reason.strip():
        return Denied("input.reason_missing", N_("Say why the lock-out is lifted."))
    return None
