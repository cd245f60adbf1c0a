"""The ``accounts.user_admin`` effect: what a released ``user-admin`` case does to a login.

#13: one person proposes a change to another person's login, a second releases it, and the
person concerned is neither (the engine's ``starter_excludes`` and ``exclude.beneficiaries``
on ``person``, and ``check_actor`` here whatever the policy says). A new credential is never
seen by either: a password reset locks the old password and mails the person a
set-password link; an API token is mailed to the person. Both leave only after the release
has committed.

What the policy lists is the policy's: a person it lists keeps the login name and e-mail it
gives (change them with a ``policy-change`` case); a case may lock such a login
(``deactivate``), and the next policy load leaves it locked until a case reactivates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from backoffice.accounts.models import ApiToken
from backoffice.accounts.services import (
    do_create_token,
    do_revoke_token,
    do_send_set_password_links,
    mail_token,
)
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.base.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.org.services import add_person_for_case, set_person_active_for_case

__all__ = ["CHANGES", "EVENTS", "UserAdministration"]

#: each kind of change and the payload fields it needs (besides ``change`` and ``reason``)
CHANGES: dict[str, tuple[str, ...]] = {
    "create": ("login", "name", "email"),
    "deactivate": ("person",),
    "reactivate": ("login",),
    "password-reset": ("person",),
    "login-name": ("person", "login"),
    "email": ("person", "email"),
    "api-token": ("person", "token_name"),
    "staff": ("person", "staff"),
}
#: the audit event of each change (the credential itself is never in it)
EVENTS: dict[str, str] = {
    "create": "accounts.person.created",
    "deactivate": "accounts.person.deactivated",
    "reactivate": "accounts.person.reactivated",
    "password-reset": "accounts.person.password_reset",
    "login-name": "accounts.person.login_renamed",
    "email": "accounts.person.email_changed",
    "api-token": "accounts.person.token_issued",
    "staff": "accounts.person.staff_changed",
}
_DETAILS = ("person", "login", "name", "email", "staff", "token_name")
_OPTIONAL = {"token_name"}
#: names the audit trail uses for actors that are not people
_RESERVED = {"anonymous", "cli", "demo", "system", "test"}


@dataclass
class _Plan:
    """What a release would do, as the case page shows it (no secret in it, ever)."""

    change: str
    login: str
    field: str
    before: Any
    after: Any
    user: Any = None
    values: dict[str, Any] = field(default_factory=dict)


def _problem(message: str, name: str = "change") -> EffectProblem:
    return EffectProblem("payload.invalid", message, [{"field": name, "message": message}])


def _login_used(login: str) -> bool:
    """Login names are never given twice: the audit trail, cases and the walls' histories
    name people by them."""
    if login in _RESERVED or get_user_model().objects.filter(username=login).exists():
        return True
    return AuditEvent.objects.filter(
        Q(actor=login) | Q(object_type="person", object_id=login)
    ).exists()


def _person(username: Any, *, active: bool = True) -> Any:
    return (
        get_user_model()
        .objects.select_related("profile")
        .filter(username=username, is_active=active, profile__isnull=False)
        .first()
    )


def _shown(value: Any) -> Any:
    """Flags as words on the case page (a template shows False as nothing)."""
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


def _from_policy(user: Any) -> bool:
    return str(user.profile.source) == "policy"


class UserAdministration:
    """#13: every change one person makes to another's login, with four eyes."""

    def _plan(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        change = str(payload.get("change") or "")
        if change not in CHANGES:
            return _problem(f"Unknown change {change!r}.")
        needed = CHANGES[change]
        for name in _DETAILS:
            given = payload.get(name) not in (None, "")
            if given and name not in needed:
                return _problem(f"{name!r} is not used by a {change} change; leave it empty.", name)
            if not given and name in needed and name not in _OPTIONAL:
                return _problem(f"A {change} change needs {name!r}.", name)
        planner = getattr(self, "_" + change.replace("-", "_"))
        plan: _Plan | EffectProblem = planner(payload)
        return plan

    def _create(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        login = str(payload["login"])
        if _login_used(login):
            return _problem(f"The login name {login!r} is or was in use.", "login")
        values = {"login": login, "name": payload["name"], "email": payload["email"]}
        return _Plan("create", login, "login", None, values, values=values)

    def _deactivate(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        if user is None:
            return _problem(f"There is no active login {payload['person']!r}.", "person")
        return _Plan("deactivate", user.username, "active", True, False, user)

    def _reactivate(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["login"], active=False)
        if user is None:
            return _problem(f"There is no inactive login {payload['login']!r}.", "login")
        if not str(user.profile.deactivated_by).startswith("case:"):
            return _problem(
                f"{user.username!r} was deactivated because the policy no longer lists them; "
                "a policy-change case brings them back.",
                "login",
            )
        return _Plan("reactivate", user.username, "active", False, True, user)

    def _password_reset(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        if user is None or not user.email:
            return _problem(
                f"{payload['person']!r} has no active login with an e-mail address for the link.",
                "person",
            )
        before = "set" if user.has_usable_password() else "none"
        return _Plan(
            "password-reset", user.username, "password", before, f"link to {user.email}", user
        )

    def _login_name(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        new = str(payload["login"])
        if user is None:
            return _problem(f"There is no active login {payload['person']!r}.", "person")
        if _from_policy(user):
            return _problem(
                f"{user.username!r} is a person of the policy; their login name is their id "
                "there (a policy-change case changes it).",
                "person",
            )
        if AuditEvent.objects.filter(actor=user.username).exists():
            return _problem(
                f"{user.username!r} has acted under this name; the audit trail, cases and "
                "histories name them by it, so it stays.",
                "person",
            )
        if _login_used(new):
            return _problem(f"The login name {new!r} is or was in use.", "login")
        return _Plan("login-name", user.username, "login", user.username, new, user)

    def _email(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        if user is None:
            return _problem(f"There is no active login {payload['person']!r}.", "person")
        if _from_policy(user):
            return _problem(
                f"{user.username!r} is a person of the policy; their e-mail address comes "
                "from there (a policy-change case changes it).",
                "person",
            )
        return _Plan("email", user.username, "email", user.email, payload["email"], user)

    def _api_token(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        if user is None or not user.email:
            return _problem(
                f"{payload['person']!r} has no active login with an e-mail address for the token.",
                "person",
            )
        name = str(payload.get("token_name") or "")
        return _Plan(
            "api-token",
            user.username,
            "API token",
            None,
            f"mailed to {user.email}",
            user,
            {"name": name},
        )

    def _staff(self, payload: Mapping[str, Any]) -> _Plan | EffectProblem:
        user = _person(payload["person"])
        if user is None:
            return _problem(f"There is no active login {payload['person']!r}.", "person")
        wanted = payload["staff"] == "yes"
        return _Plan("staff", user.username, "staff", user.is_staff, wanted, user)

    # -- the effect protocol ----------------------------------------------------------------

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        plan = self._plan(payload)
        return plan if isinstance(plan, EffectProblem) else None

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """IAM-1: the person concerned neither proposes nor releases a change to their own
        login, whatever the process's definition in the policy says."""
        concerned = {payload.get("person"), payload.get("login")} - {None, ""}
        if facts.person in concerned:
            return Denied(
                "sod.beneficiary",
                "A change to your own login is proposed and released by two other people; "
                "your own password and tokens you change on your settings page.",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        plan = self._plan(payload)
        if isinstance(plan, EffectProblem):
            return {
                "kind": "change",
                "object": payload.get("person") or payload.get("login"),
                "field": payload.get("change"),
                "before": None,
                "after": plan.message,
            }
        return {
            "kind": "change",
            "object": plan.login,
            "field": plan.field,
            "before": _shown(plan.before),
            "after": _shown(plan.after),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        concerned = [payload.get("person"), payload.get("login")]
        # the person's row is held until the release commits: two releases for one login
        # are carried out one after the other, each on what the other left
        list(get_user_model().objects.select_for_update().filter(username__in=concerned))
        plan = self._plan(payload)
        assert isinstance(plan, _Plan)  # checked just before, in the release's transaction
        reason = f"released user-admin case {case.pk}, proposed by {case.maker.username}"
        user = plan.user
        if plan.change == "create":
            values = plan.values
            user = add_person_for_case(
                values["login"], name=values["name"], email=values["email"], case_id=case.pk
            )
            do_send_set_password_links([user], actor=actor, reason=reason)
        elif plan.change in ("deactivate", "reactivate"):
            set_person_active_for_case(user, active=plan.after, case_id=case.pk)
            if not plan.after:  # a locked login's tokens end with it
                for row in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
                    do_revoke_token(row, actor=actor, reason=reason)
        elif plan.change == "password-reset":
            do_send_set_password_links([user], actor=actor, reason=reason)
        elif plan.change == "login-name":
            user.username = plan.after
            user.save(update_fields=["username"])
        elif plan.change == "email":
            user.email = plan.after
            user.save(update_fields=["email"])
        elif plan.change == "api-token":
            name = plan.values["name"]
            token = do_create_token(user, name=name, actor=actor, reason=reason)
            transaction.on_commit(lambda: mail_token(user, token, name=name), robust=True)
        elif plan.change == "staff":
            user.is_staff = plan.after
            user.save(update_fields=["is_staff"])
        record(
            EVENTS[plan.change],
            actor=actor,
            object_type="person",
            object_id=plan.login,
            before=None if plan.before is None else {plan.field: plan.before},
            after={plan.field: plan.after},
            reason=reason,
        )
        return {
            "change": plan.change,
            "person": plan.login,
            "field": plan.field,
            "before": plan.before,
            "after": plan.after,
        }
