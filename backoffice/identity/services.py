"""#18: what a single sign-on means for a person, and their TOTP second factor.

One identity, whichever way in: a token's login claim names the same ``User`` the password
login does, so four eyes (maker never releases) holds across both. A group in the token
never grants a role: the policy's ``identity.roles`` turns it into a role-grant case started
by ``identity.requester``, which the access checks and a second person decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyotp
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backoffice.access.models import RoleAssignment
from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.cases.engines import open_statuses
from backoffice.cases.models import Case
from backoffice.cases.services import do_start_case
from backoffice.core.policy import IdentitySpec
from backoffice.identity.models import TotpDevice
from backoffice.org.queries import get_live_policy

__all__ = [
    "ISSUER_NAME",
    "do_confirm_totp",
    "do_record_sign_on_refused",
    "do_request_roles",
    "has_totp",
    "identity_rules",
    "person_for_login",
    "start_totp_enrolment",
    "totp_uri",
    "verify_totp",
]

ISSUER_NAME = "Backoffice"


def identity_rules() -> IdentitySpec:
    """The live policy's claim mapping, or the defaults (login from preferred_username)."""
    policy = get_live_policy()
    if policy is not None and policy.identity is not None:
        return policy.identity
    return IdentitySpec()


def person_for_login(login: str) -> Any | None:
    """The person a login name names, active or not (the caller refuses inactive ones)."""
    return (
        get_user_model()
        .objects.select_related("profile")
        .filter(username=login, profile__isnull=False)
        .first()
    )


def do_record_sign_on_refused(method: str, reason: str, login: str = "") -> None:
    """A refused single sign-on is on the audit chain, with why (never the token)."""
    with transaction.atomic():
        record(
            "auth.sso_refused",
            actor="anonymous",
            object_type="person",
            object_id=login[:128] or "-",
            after={"method": method},
            reason=reason[:500],
        )


def _held_roles(user: Any) -> set[str]:
    today = timezone.localdate()
    rows = RoleAssignment.objects.filter(user=user, valid_from__lte=today).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=today)
    )
    return set(rows.values_list("role__key", flat=True))


def _pending_roles(user: Any) -> set[str]:
    cases = Case.objects.filter(
        process__key="role-grant",
        status__in=open_statuses(),
        payload__beneficiary=user.get_username(),
    )
    return {str(c.payload.get("role")) for c in cases}


def do_request_roles(user: Any, groups: Iterable[str], *, source: str) -> list[int]:
    """Start a role-grant case for each mapped role the person lacks; return their ids.

    Nothing is granted here: the case goes to the approvers' inboxes, and the engine
    refuses (and records) what the requester may not start or the access rules forbid.
    """
    rules = identity_rules()
    wanted = sorted({rules.roles[g] for g in groups if g in rules.roles})
    missing = [r for r in wanted if r not in _held_roles(user) | _pending_roles(user)]
    if not missing:
        return []
    requester = person_for_login(rules.requester) if rules.requester else None
    if requester is None or not requester.is_active:
        with transaction.atomic():
            record(
                "identity.roles_not_requested",
                actor="system",
                object_type="person",
                object_id=user.get_username(),
                after={"roles": missing, "source": source},
                reason="the policy names no active identity.requester",
            )
        return []
    started: list[int] = []
    today = timezone.localdate()
    for role in missing:
        payload = {
            "beneficiary": user.get_username(),
            "role": role,
            "valid_from": today.isoformat(),
            "justification": f"{source}: the directory puts this person in a group for {role}",
        }
        outcome = do_start_case(Actor(requester), "role-grant", payload, submit=True)
        if outcome.case is not None:
            started.append(int(outcome.case.pk))
    return started


# -- TOTP ----------------------------------------------------------------------------------


def has_totp(user: Any) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def start_totp_enrolment(user: Any) -> TotpDevice:
    """The person's authenticator, a new secret if they have none yet. The secret stays
    until confirmed (the page is shown again on a wrong code); replacing a confirmed one is
    a password-reset matter, through a user-admin case."""
    device, _ = TotpDevice.objects.get_or_create(
        user=user, defaults={"secret": pyotp.random_base32()}
    )
    return device


def totp_uri(device: TotpDevice) -> str:
    """The otpauth:// address an authenticator app reads (from a QR code or typed)."""
    return pyotp.TOTP(device.secret).provisioning_uri(
        name=device.user.get_username(), issuer_name=ISSUER_NAME
    )


def _accept(device: TotpDevice, code: str) -> bool:
    """A code of this or the neighbouring time step, never one already used."""
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if candidate > device.last_step and pyotp.utils.strings_equal(
            totp.generate_otp(candidate), code
        ):
            device.last_step = candidate
            device.save(update_fields=["last_step"])
            return True
    return False


def do_confirm_totp(user: Any, code: str) -> bool:
    """The first code from the app confirms the enrolment; from then on logins ask for one."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.confirmed_at is not None or not _accept(device, code):
            return False
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        username = user.get_username()
        record("auth.totp.enrolled", actor=username, object_type="person", object_id=username)
    return True


def verify_totp(user: Any, code: str) -> bool:
    """The login step: a fresh code of the person's confirmed authenticator."""
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        ok = device is not None and _accept(device, code)
        if not ok:
            username = user.get_username()
            record(
                "auth.totp.refused",
                actor=username,
                object_type="person",
                object_id=username,
                reason="wrong or used code",
            )
    return ok
