"""Writes to the organisation. Each ``do_*`` is one transaction with its audit events."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backoffice.audit.services import record
from backoffice.base.context import forget
from backoffice.core.errors import DomainError
from backoffice.core.org import Violation, check_separation
from backoffice.core.policy import (
    PolicyDocument,
    PolicyInvalid,
    exception_text,
    parse_policy,
    summarise,
    to_organisation,
)
from backoffice.org.appliers import Applier, PolicyLoad, appliers
from backoffice.org.models import Membership, PolicyVersion, Profile, Responsibility, Unit

__all__ = [
    "LoadResult",
    "SeparationViolated",
    "add_person_for_case",
    "apply_policy",
    "do_load_policy",
    "set_person_active_for_case",
    "live_policy",
    "validate_policy",
]

User = get_user_model()


class SeparationViolated(ValueError):
    """The policy is well formed but its organisation breaks a separation rule."""

    def __init__(self, document: PolicyDocument, violations: list[Violation]) -> None:
        self.document = document
        self.violations = violations
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))


@dataclass
class LoadResult:
    version: PolicyVersion | None
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def validate_policy(raw: bytes, file: str) -> PolicyDocument:
    """Parse, validate and check separation; raise ``PolicyInvalid`` or ``SeparationViolated``.

    Each app checks its own section (``appliers``): unknown effects, access rules that the
    grants of cases would break.
    """
    document = parse_policy(raw, file)
    problems = [p for a in appliers() if a.check is not None for p in a.check(document)]
    if problems:
        raise PolicyInvalid(problems)
    violations = check_separation(to_organisation(document.policy))
    if violations:
        raise SeparationViolated(document, violations)
    return document


def add_person_for_case(username: str, *, name: str, email: str, case_id: int) -> Any:
    """#13: a login a released user-admin case creates, without a password (the person sets
    it through a mailed link). Its profile names the case, so no policy load ends it; the
    caller records the audit event in the release's transaction."""
    user = User.objects.create_user(username=username, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.profile = Profile.objects.create(user=user, display_name=name, source=f"case:{case_id}")
    return user


def set_person_active_for_case(user: Any, *, active: bool, case_id: int) -> None:
    """#13: a user-admin case switches a login off (a policy load that still lists the
    person leaves it off) or back on (only one a case switched off)."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    profile = user.profile
    profile.deactivated_by = "" if active else f"case:{case_id}"
    profile.save(update_fields=["deactivated_by", "last_updated"])


def live_policy() -> PolicyVersion | None:
    return PolicyVersion.objects.order_by("-number").first()


def do_load_policy(raw: bytes, file: str, *, actor: str, today: date | None = None) -> LoadResult:
    """Bootstrap the first policy. Once one is live, a different one needs four eyes.

    From then on the rules change only through a released ``policy-change`` case, whose
    effect calls ``apply_policy``: not even an administrator changes them alone.
    """
    validate_policy(raw, file)
    live = live_policy()
    if live is not None and live.sha256 != hashlib.sha256(raw).hexdigest():
        raise DomainError(
            "policy.four_eyes_required",
            f"Policy version {live.number} is live; a new policy is loaded only by releasing a "
            "policy-change case (proposed by one administrator, released by another).",
        )
    return apply_policy(raw, file, actor=actor, today=today)


def apply_policy(
    raw: bytes, file: str, *, actor: str, today: date | None = None, reason: str = ""
) -> LoadResult:
    """Apply a policy to the database as one transaction, keeping history.

    Loading the same policy twice changes nothing. What disappears is ended, not deleted:
    memberships and responsibilities get ``valid_to = today``, units ``retired_at``, people
    lose ``is_active``, processes and roles are retired.
    """
    document = validate_policy(raw, file)
    today = today or timezone.localdate()
    digest = hashlib.sha256(raw).hexdigest()
    with transaction.atomic():
        latest = PolicyVersion.objects.select_for_update().order_by("-number").first()
        number = (latest.number + 1) if latest else 1
        load = PolicyLoad(document, to_organisation(document.policy), actor, today, number)
        for applier in appliers():
            applier.apply(load)
        if latest is not None and latest.sha256 == digest and not load.changes:
            return LoadResult(None, [])
        version = PolicyVersion.objects.create(
            number=number,
            sha256=digest,
            file=file,
            source=raw.decode("utf-8"),
            loaded_at=timezone.now(),
            loaded_by=actor,
            summary=summarise(to_organisation(document.policy), today),
        )
        forget("policy_version")  # rules derived from the policy are worked out anew
        record(
            "policy.loaded",
            actor=actor,
            object_type="policy",
            object_id=version.number,
            before={"number": latest.number, "sha256": latest.sha256} if latest else None,
            after={"number": version.number, "sha256": digest, "file": file},
            reason=reason or f"{len(load.changes)} changes",
        )
        return LoadResult(version, load.changes)


class _Organisation:
    """The difference between the organisation in the database and a policy's, applied with
    one audit event each (the organisation app's applier)."""

    def __init__(self, load: PolicyLoad) -> None:
        self.load = load
        self.policy = load.policy
        self.org = load.org
        self.today = load.today
        self.units_by_key = load.units_by_key
        self.users_by_name = load.users_by_name
        self._audit = load.audit

    def units(self) -> None:
        existing = {u.key: u for u in Unit.objects.select_for_update()}
        self.keys_by_pk = {u.pk: u.key for u in existing.values()}
        for spec in self.policy.units:
            domain = self.org.units[spec.id]
            wanted = {
                "name": spec.name,
                "line": domain.line.value,
                "explicit_line": domain.explicit_line,
                "parent": spec.parent,
                "description": spec.description,
                "retired": False,
            }
            unit = existing.get(spec.id)
            if unit is None:
                unit = Unit.objects.create(
                    key=spec.id,
                    name=spec.name,
                    line=domain.line.value,
                    explicit_line=domain.explicit_line,
                    description=spec.description,
                )
                self._audit("org.unit.created", "unit", spec.id, None, wanted)
            else:
                before = self._unit_state(unit)
                if before != wanted:
                    unit.name, unit.line = spec.name, domain.line.value
                    unit.explicit_line, unit.description = domain.explicit_line, spec.description
                    unit.retired_at = None
                    unit.save(
                        update_fields=[
                            "name",
                            "line",
                            "explicit_line",
                            "description",
                            "retired_at",
                            "last_updated",
                        ]
                    )
                    # the parent is set below, once every unit exists; record the full change now
                    self._audit("org.unit.changed", "unit", spec.id, before, wanted)
            self.units_by_key[spec.id] = unit
        for spec in self.policy.units:
            unit = self.units_by_key[spec.id]
            parent = self.units_by_key[spec.parent] if spec.parent else None
            if unit.parent_id != (parent.pk if parent else None):
                unit.parent = parent
                unit.save(update_fields=["parent", "last_updated"])
        for key, unit in existing.items():
            if key not in self.units_by_key and unit.retired_at is None:
                before = self._unit_state(unit)
                unit.retired_at = timezone.now()
                unit.save(update_fields=["retired_at", "last_updated"])
                self._audit("org.unit.retired", "unit", key, before, self._unit_state(unit))
                self.units_by_key[key] = unit

    def _unit_state(self, unit: Unit) -> dict[str, Any]:
        return {
            "name": unit.name,
            "line": unit.line,
            "explicit_line": unit.explicit_line,
            "parent": self.keys_by_pk.get(unit.parent_id) if unit.parent_id else None,
            "description": unit.description,
            "retired": unit.retired_at is not None,
        }

    def people(self) -> None:
        users = {
            u.username: u
            for u in User.objects.select_for_update(of=("self",)).select_related("profile")
        }
        wanted_ids = set()
        for spec in self.policy.people:
            wanted_ids.add(spec.id)
            wanted = {
                "name": spec.name,
                "email": spec.email or "",
                "competence": (
                    {
                        "amount": f"{spec.competence.amount:.2f}",
                        "currency": spec.competence.currency,
                    }
                    if spec.competence
                    else None
                ),
                "language": spec.language,
                "active": True,
                "source": "policy",
            }
            user = users.get(spec.id)
            if user is None:
                user = User.objects.create_user(username=spec.id, email=spec.email or "")
                user.set_unusable_password()
                user.save(update_fields=["password"])
                before = None
            else:
                before = _person_state(user)
            profile = getattr(user, "profile", None) if before is not None else None
            if profile is None:
                profile = Profile(user=user)
            # #13: a login a user-admin case deactivated stays off until a case reactivates it
            held = profile.deactivated_by.startswith("case:")
            wanted["active"] = not held
            if before != wanted:
                user.email, user.is_active = spec.email or "", not held
                user.save(update_fields=["email", "is_active"])
                profile.display_name = spec.name
                profile.language = spec.language
                profile.competence_amount = spec.competence.amount if spec.competence else None
                profile.competence_currency = spec.competence.currency if spec.competence else ""
                profile.source = "policy"  # listed in the policy: from now on the policy's
                profile.deactivated_by = profile.deactivated_by if held else ""
                profile.save()
                user.profile = profile
                action = "org.person.created" if before is None else "org.person.changed"
                self._audit(action, "person", spec.id, before, wanted)
            self.users_by_name[spec.id] = user
        for username, user in users.items():
            # #13: people a user-admin case created are not the policy's to end
            managed = hasattr(user, "profile") and user.profile.source == "policy"
            if username not in wanted_ids and managed and user.is_active:
                before = _person_state(user)
                user.is_active = False
                user.save(update_fields=["is_active"])
                user.profile.deactivated_by = "policy"
                user.profile.save(update_fields=["deactivated_by", "last_updated"])
                self._audit(
                    "org.person.deactivated", "person", username, before, _person_state(user)
                )

    def memberships(self) -> None:
        rows = Membership.objects.select_for_update().select_related("user", "unit")
        self.load.sync_dated(
            "membership",
            {(m.user.username, m.unit.key, m.role, m.valid_from): m for m in rows},
            {(s.person, s.unit, s.role.value, s.valid_from): s for s in self.policy.memberships},
            lambda key, spec: Membership(
                user=self.users_by_name[key[0]],
                unit=self.units_by_key[key[1]],
                role=key[2],
                valid_from=spec.valid_from,
                valid_to=spec.valid_to,
                exception=exception_text(spec),
            ),
            app="org",
        )

    def responsibilities(self) -> None:
        rows = Responsibility.objects.select_for_update().select_related("user", "unit")
        self.load.sync_dated(
            "responsibility",
            {(r.user.username, r.unit.key, r.valid_from): r for r in rows},
            {
                (s.person, unit, s.valid_from): s
                for s in self.policy.responsibilities
                for unit in s.units
            },
            lambda key, spec: Responsibility(
                user=self.users_by_name[key[0]],
                unit=self.units_by_key[key[1]],
                valid_from=spec.valid_from,
                valid_to=spec.valid_to,
            ),
            app="org",
        )


def apply_organisation(load: PolicyLoad) -> None:
    """Units, people, memberships and board duties, in that order (each needs the last)."""
    organisation = _Organisation(load)
    organisation.units()
    organisation.people()
    organisation.memberships()
    organisation.responsibilities()


ORGANISATION_APPLIER = Applier("organisation", 10, apply_organisation)


def _person_state(user: Any) -> dict[str, Any]:
    profile = getattr(user, "profile", None)
    competence = None
    if profile is not None and profile.competence_amount is not None:
        competence = {
            "amount": f"{profile.competence_amount:.2f}",
            "currency": profile.competence_currency,
        }
    return {
        "name": profile.display_name if profile else "",
        "email": user.email,
        "competence": competence,
        "language": profile.language if profile else "en",
        "active": user.is_active,
        "source": profile.source if profile else "policy",
    }
