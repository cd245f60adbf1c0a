"""#18: SCIM 2.0 provisioning: joiners, movers and leavers from an HR system or an IdP.

- A joiner becomes a person (no password, no role) with a membership of their department.
- A mover's membership ends today and the new one starts today: history is kept, so the
  cooling-off (COOL-1) follows from it; the separation checks (ORG-1/2, ORG-4, RC-2) run on
  the organisation as it would be, and a move that breaks one is refused, nothing written.
- A leaver is deactivated at once: memberships end, API tokens are revoked, delegations from
  and to them end; their sessions die with the login (inactive people have none).
- Groups never grant: a group the policy maps to a role starts role-grant cases.

Every change is one transaction and one audit event by the actor ``scim``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from backoffice.accounts.models import ApiToken
from backoffice.accounts.services import do_revoke_token
from backoffice.audit.services import record
from backoffice.cases.models import Delegation
from backoffice.core.org import MembershipRole, Violation, check_separation
from backoffice.identity.services import do_request_roles
from backoffice.org.models import Membership, Profile, Unit
from backoffice.org.queries import get_domain_organisation
from backoffice.scim.models import ScimGroup, ScimLink

__all__ = [
    "ENTERPRISE",
    "GROUP_SCHEMA",
    "USER_SCHEMA",
    "PersonData",
    "ScimError",
    "do_delete_group",
    "do_delete_user",
    "do_join",
    "do_save_group",
    "do_update_user",
    "filtered",
    "group_resource",
    "patched",
    "person_data",
    "user_resource",
    "visible_users",
    "departments",
]

ACTOR = "scim"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#: a deactivation by SCIM (a leaver); a DELETE also hides the person from SCIM
LEFT, DELETED = "scim", "scim:deleted"
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class ScimError(Exception):
    """An answer in SCIM's error format (RFC 7644 3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


@dataclass(frozen=True)
class PersonData:
    login: str
    name: str
    email: str
    active: bool
    department: str | None
    external_id: str


def _text(value: Any, field: str, *, limit: int = 200) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ScimError(400, f"{field}: a text of at most {limit} characters", "invalidValue")
    return value.strip()


def person_data(body: Mapping[str, Any]) -> PersonData:
    """A User resource as Backoffice keeps it; anything malformed is a 400 naming the field."""
    login = _text(body.get("userName"), "userName", limit=64).lower()
    if not _LOGIN.fullmatch(login):
        raise ScimError(400, "userName: lower-case letters, digits, '.', '_', '-'", "invalidValue")
    raw_name = body.get("name")
    name_part: Mapping[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    name = _text(name_part.get("formatted"), "name.formatted") or _text(
        body.get("displayName"), "displayName"
    )
    if not name:
        given = _text(name_part.get("givenName"), "name.givenName")
        family = _text(name_part.get("familyName"), "name.familyName")
        name = f"{given} {family}".strip() or login
    emails = body.get("emails") or []
    if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
        raise ScimError(400, "emails: a list of objects", "invalidValue")
    primary = [e for e in emails if e.get("primary")] or emails
    email = _text(primary[0].get("value"), "emails.value", limit=254) if primary else ""
    active = body.get("active")
    if not isinstance(active, bool):
        raise ScimError(400, "active: true or false (required)", "invalidValue")
    raw_extension = body.get(ENTERPRISE)
    extension: Mapping[str, Any] = raw_extension if isinstance(raw_extension, dict) else {}
    department = _text(extension.get("department"), "department", limit=64) or None
    return PersonData(
        login, name, email, active, department, _text(body.get("externalId"), "externalId")
    )


# -- reading ---------------------------------------------------------------------------


def visible_users() -> QuerySet[Any]:
    """Everyone with a profile, except those a SCIM DELETE removed; with what a resource
    shows read in a fixed number of statements, however long the page."""
    member = Membership.objects.filter(role=MembershipRole.MEMBER.value).filter(
        _current(timezone.localdate())
    )
    return (
        get_user_model()
        .objects.filter(profile__isnull=False)
        .exclude(profile__deactivated_by=DELETED)
        .select_related("profile", "scim_link")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=member.select_related("unit").order_by("-valid_from"),
                to_attr="member_now",
            )
        )
        .order_by("pk")
    )


def _department(user: Any, day: date) -> str | None:
    rows = getattr(user, "member_now", None)
    if rows is None:
        rows = list(
            Membership.objects.filter(user=user, role=MembershipRole.MEMBER.value)
            .filter(_current(day))
            .select_related("unit")
            .order_by("-valid_from")
        )
    return rows[0].unit.key if rows else None


def departments() -> list[str]:
    """The units a person can be placed in (a SCIM department is a unit key)."""
    return list(
        Unit.objects.filter(retired_at__isnull=True).order_by("key").values_list("key", flat=True)
    )


def _current(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def _meta(kind: str, row: Any, created: Any, modified: Any, base: str) -> dict[str, Any]:
    plural = "Users" if kind == "User" else "Groups"
    return {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
        "location": f"{base}/{plural}/{row.pk}",
        "version": f'W/"{int(modified.timestamp() * 1_000_000)}"',
    }


def user_resource(user: Any, base: str) -> dict[str, Any]:
    profile = user.profile
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "userName": user.username,
        "active": bool(user.is_active),
        "meta": _meta("User", user, profile.created, profile.last_updated, base),
    }
    if profile.display_name != user.username:  # a name no one gave is the login
        resource["name"] = {"formatted": profile.display_name}
    link = getattr(user, "scim_link", None)
    if link is not None and link.external_id:
        resource["externalId"] = link.external_id
    if user.email:
        resource["emails"] = [{"value": user.email, "type": "work"}]
    department = _department(user, timezone.localdate()) or (link.department if link else "")
    if department:
        resource["schemas"].append(ENTERPRISE)
        resource[ENTERPRISE] = {"department": department}
    return resource


def group_resource(group: ScimGroup, base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.pk),
        "displayName": group.display_name,
        "members": [
            {"value": str(u.pk), "$ref": f"{base}/Users/{u.pk}"}
            for u in group.members.order_by("pk")
        ],
        "meta": _meta("Group", group, group.created, group.last_updated, base),
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    return resource


_FILTER = re.compile(r'^\s*(userName|externalId|displayName|id)\s+eq\s+"([^"]*)"\s*$', re.I)


def filtered(rows: QuerySet[Any], expression: str, fields: Mapping[str, str]) -> QuerySet[Any]:
    """``attribute eq "value"``, the filter provisioning clients use; others are refused."""
    if not expression:
        return rows
    match = _FILTER.match(expression)
    if match is None or match.group(1).lower() not in fields:
        raise ScimError(400, "only 'attribute eq \"value\"' filters are supported", "invalidFilter")
    field, value = fields[match.group(1).lower()], match.group(2)
    if field == "pk" and not value.isdigit():
        return rows.none()
    if field == "username":
        return rows.filter(username__iexact=value)
    return rows.filter(**{field: value})


# -- writing -----------------------------------------------------------------------------


def _unit(key: str | None) -> Unit | None:
    if key is None:
        return None
    unit = Unit.objects.filter(key=key, retired_at__isnull=True).first()
    if unit is None:
        raise ScimError(400, f"department: no unit {key!r}", "invalidValue")
    return unit


def _violations() -> set[Violation]:
    return set(check_separation(get_domain_organisation()))


def _place(user: Any, unit: Unit | None, today: date) -> tuple[str | None, str | None]:
    """End the person's current member memberships elsewhere and start one in ``unit``
    (kept in history: cooling-off reads it). Head and deputy roles stay the policy's."""
    before = _department(user, today)
    target = unit.key if unit is not None else None
    if before == target:
        return before, target
    current = Membership.objects.filter(user=user, role=MembershipRole.MEMBER.value).filter(
        _current(today)
    )
    for row in current.select_related("unit"):
        if unit is None or row.unit_id != unit.pk:
            row.valid_to = today
            row.save(update_fields=["valid_to", "last_updated"])
    if unit is not None and not current.filter(unit=unit).exists():
        Membership.objects.create(
            user=user, unit=unit, role=MembershipRole.MEMBER.value, valid_from=today
        )
    return before, target


def _separation_kept(before: set[Violation], login: str) -> None:
    """ORG-1/2, ORG-4, RC-2: refuse a change that adds a violation (the caller's
    transaction then writes nothing)."""
    new = sorted(_violations() - before)
    if new:
        rules = ", ".join(sorted({v.rule for v in new}))
        raise ScimError(409, f"{login}: the move would break separation of duties ({rules})")


def do_join(data: PersonData) -> Any:
    """A joiner: a person without password or role, with a membership of their department."""
    users = get_user_model().objects
    if users.filter(username__iexact=data.login).exists():
        raise ScimError(409, f"userName {data.login!r} is taken", "uniqueness")
    with transaction.atomic():
        before = _violations()
        unit = _unit(data.department)
        user = users.create_user(username=data.login, email=data.email, is_active=data.active)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.profile = Profile.objects.create(user=user, display_name=data.name, source="scim")
        ScimLink.objects.create(
            user=user, external_id=data.external_id, department=data.department or ""
        )
        today = timezone.localdate()
        if data.active:
            _place(user, unit, today)
            _separation_kept(before, data.login)
        else:
            user.profile.deactivated_by = LEFT
            user.profile.save(update_fields=["deactivated_by"])
        record(
            "scim.person.joined",
            actor=ACTOR,
            object_type="person",
            object_id=data.login,
            after={"name": data.name, "email": data.email, "department": data.department},
        )
    return user


def do_update_user(user: Any, data: PersonData) -> Any:
    """PUT (and PATCH, applied to the current resource): name, e-mail, department, active.

    ``active: false`` is a leaver (at once); ``true`` again brings back only a login SCIM
    locked, never one a user-admin case locked (that takes a case to unlock)."""
    if data.login != user.username:
        raise ScimError(400, "userName cannot change (logins are never given twice)", "mutability")
    with transaction.atomic():
        users = get_user_model().objects.select_for_update(of=("self",)).select_related("profile")
        user = users.get(pk=user.pk)
        profile = user.profile
        today = timezone.localdate()
        unit = _unit(data.department)
        ScimLink.objects.update_or_create(
            user=user,
            defaults={"external_id": data.external_id, "department": data.department or ""},
        )
        _rename(user, data)
        if not data.active:
            if user.is_active:
                _leave(user, today, reason="active=false")
            return user
        if not user.is_active:
            if profile.deactivated_by not in (LEFT, DELETED):
                raise ScimError(
                    409, "a user-admin case locked this login; only a case unlocks it", "mutability"
                )
            user.is_active = True
            user.save(update_fields=["is_active"])
            profile.deactivated_by = ""
            profile.save(update_fields=["deactivated_by", "last_updated"])
            record(
                "scim.person.rejoined", actor=ACTOR, object_type="person", object_id=user.username
            )
        before = _violations()
        was, now = _place(user, unit, today)
        if was != now:
            _separation_kept(before, user.username)
            record(
                "scim.person.moved",
                actor=ACTOR,
                object_type="person",
                object_id=user.username,
                before={"department": was},
                after={"department": now},
                reason="membership ended and started today; cooling-off follows from history",
            )
    return user


def _rename(user: Any, data: PersonData) -> None:
    """Name and e-mail; the policy's people keep the policy's (a policy-change case)."""
    profile = user.profile
    if str(profile.source) == "policy":
        return
    changed: dict[str, str] = {}
    if data.name != profile.display_name:
        changed["name"] = profile.display_name = data.name
        profile.save(update_fields=["display_name", "last_updated"])
    if data.email != user.email:
        changed["email"] = user.email = data.email
        user.save(update_fields=["email"])
    if changed:
        record(
            "scim.person.changed",
            actor=ACTOR,
            object_type="person",
            object_id=user.username,
            after=changed,
        )


def _leave(user: Any, today: date, *, reason: str, deleted: bool = False) -> None:
    """A leaver, at once: locked, memberships ended, tokens revoked, delegations ended."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    profile = user.profile
    profile.deactivated_by = DELETED if deleted else LEFT
    profile.save(update_fields=["deactivated_by", "last_updated"])
    ended = Membership.objects.filter(user=user).filter(_current(today))
    units = sorted(ended.values_list("unit__key", flat=True))
    ended.update(valid_to=today)
    for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        do_revoke_token(token, actor=ACTOR, reason="leaver")
    now = timezone.now()
    delegations = Delegation.objects.filter(
        Q(principal=user) | Q(substitute=user), ended_at__isnull=True, valid_to__gt=today
    )
    for row in delegations:
        row.ended_at = now
        row.save(update_fields=["ended_at", "last_updated"])
        record(
            "case.delegation.ended",
            actor=ACTOR,
            object_type="delegation",
            object_id=row.pk,
            before={"ended": False},
            after={"ended": True},
            reason="leaver",
        )
    record(
        "scim.person.left",
        actor=ACTOR,
        object_type="person",
        object_id=user.username,
        after={"active": False, "memberships_ended": units},
        reason=reason,
    )


def do_delete_user(user: Any) -> None:
    """DELETE: a leaver, kept with their history (the audit trail names them) but gone
    from SCIM's view."""
    with transaction.atomic():
        user = (
            get_user_model()
            .objects.select_for_update(of=("self",))
            .select_related("profile")
            .get(pk=user.pk)
        )
        _leave(
            user, timezone.localdate(), reason="deleted by the provisioning system", deleted=True
        )


# -- groups ------------------------------------------------------------------------------


def _members(body: Mapping[str, Any]) -> list[Any]:
    members = body.get("members") or []
    if not isinstance(members, list):
        raise ScimError(400, "members: a list", "invalidValue")
    ids = [str(m.get("value", "")) if isinstance(m, dict) else "" for m in members]
    if not all(i.isdigit() for i in ids):
        raise ScimError(400, "members.value: user ids", "invalidValue")
    found = list(visible_users().filter(pk__in=[int(i) for i in ids]))
    if len(found) != len(set(ids)):
        raise ScimError(400, "members: unknown user", "invalidValue")
    return found


def do_save_group(group: ScimGroup | None, body: Mapping[str, Any]) -> ScimGroup:
    """Create or replace a group. New members of a group the policy maps to a role get a
    role-grant case each (never the role)."""
    name = _text(body.get("displayName"), "displayName")
    if not name:
        raise ScimError(400, "displayName is required", "invalidValue")
    members = _members(body)
    with transaction.atomic():
        clash = ScimGroup.objects.filter(display_name=name)
        if group is not None:
            clash = clash.exclude(pk=group.pk)
        if clash.exists():
            raise ScimError(409, f"a group {name!r} exists", "uniqueness")
        before: set[int] = set()
        if group is None:
            group = ScimGroup.objects.create(
                display_name=name, external_id=_text(body.get("externalId"), "externalId")
            )
        else:
            before = set(group.members.values_list("pk", flat=True))
            group.display_name = name
            group.external_id = _text(body.get("externalId"), "externalId")
            group.save()
        group.members.set(members)
        added = [u for u in members if u.pk not in before]
        record(
            "scim.group.saved",
            actor=ACTOR,
            object_type="scim_group",
            object_id=group.pk,
            after={"name": name, "members": sorted(u.username for u in members)},
        )
    for user in added:
        if user.is_active:
            do_request_roles(user, [name], source="provisioning")
    return group


def do_delete_group(group: ScimGroup) -> None:
    with transaction.atomic():
        record(
            "scim.group.deleted",
            actor=ACTOR,
            object_type="scim_group",
            object_id=group.pk,
            before={"name": group.display_name},
        )
        group.delete()


# -- PATCH ---------------------------------------------------------------------------------


_MEMBER_PATH = re.compile(r'^members\[value eq "([^"]+)"\]$')


def patched(resource: dict[str, Any], operations: Iterable[Any]) -> dict[str, Any]:
    """RFC 7644 3.5.2 on the resource as a document: add, replace, remove, for the simple
    paths provisioning clients send (attributes, ``name.x``, the enterprise extension's,
    ``members[value eq "id"]``). The result is then saved like a PUT."""
    doc = {k: v for k, v in resource.items() if k != "meta"}
    for op in operations:
        if not isinstance(op, dict):
            raise ScimError(400, "Operations: a list of objects", "invalidSyntax")
        kind = str(op.get("op", "")).lower()
        path = str(op.get("path") or "")
        value = op.get("value")
        if kind not in {"add", "replace", "remove"}:
            raise ScimError(400, f"op {kind!r} is not add, replace or remove", "invalidSyntax")
        if not path:
            if not isinstance(value, dict) or kind == "remove":
                raise ScimError(400, "an operation without path needs an object", "noTarget")
            for key, item in value.items():
                _apply(doc, kind, key, item)
            continue
        _apply(doc, kind, path, value)
    return doc


def _apply(doc: dict[str, Any], kind: str, path: str, value: Any) -> None:
    if member := _MEMBER_PATH.match(path):
        doc["members"] = [m for m in doc.get("members", []) if str(m.get("value")) != member[1]]
        return
    if path.startswith(ENTERPRISE + ":"):
        target = doc.setdefault(ENTERPRISE, {})
        key = path.removeprefix(ENTERPRISE + ":")
    elif path.startswith(ENTERPRISE):
        target, key = doc, ENTERPRISE
    elif "." in path:
        head, key = path.split(".", 1)
        target = doc.setdefault(head, {})
    else:
        target, key = doc, path
    if kind == "remove":
        target.pop(key, None)
    elif kind == "add" and isinstance(target.get(key), list) and isinstance(value, list):
        target[key] = target[key] + [v for v in value if v not in target[key]]
    elif isinstance(target.get(key), dict) and isinstance(value, dict):
        target[key] = {**target[key], **value}
    else:
        target[key] = value
