"""Writes to the organisation. Each ``do_*`` is one transaction with its audit events."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.services import record
from backoffice.cases.effects import get_effect
from backoffice.cases.effects import registered as registered_effects
from backoffice.cases.models import Process
from backoffice.core.access import grant_problems
from backoffice.core.errors import DomainError
from backoffice.core.org import Violation, check_separation
from backoffice.core.policy import (
    PolicyDocument,
    PolicyInvalid,
    Problem,
    access_rules,
    exception_text,
    parse_policy,
    summarise,
    to_organisation,
)
from backoffice.org.models import Membership, PolicyVersion, Profile, Responsibility, Unit
from backoffice.walls.sync import sync_issuers

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
    """Parse, validate and check separation; raise ``PolicyInvalid`` or ``SeparationViolated``."""
    document = parse_policy(raw, file)
    problems = [
        document.problem(("processes", index, "effect"), f"unknown effect {process.effect!r}")
        for index, process in enumerate(document.policy.processes)
        if process.effect and process.effect not in registered_effects()
    ]
    problems += [
        document.problem(
            ("processes", index, "payload", position, "derived"),
            f"process {process.id!r}: field {field.name!r} is derived, but "
            f"{process.effect or 'no effect'!r} derives nothing",
        )
        for index, process in enumerate(document.policy.processes)
        for position, field in enumerate(process.payload)
        if field.derived
        and not hasattr(
            get_effect(process.effect) if process.effect in registered_effects() else None,
            "derive",
        )
    ]
    if problems:
        raise PolicyInvalid(problems)
    violations = check_separation(to_organisation(document.policy))
    if violations:
        raise SeparationViolated(document, violations)
    problems = _access_problems_with_granted(document)
    if problems:
        raise PolicyInvalid(problems)
    return document


def _access_problems_with_granted(document: PolicyDocument) -> list[Problem]:
    """#6: new access rules must hold for the grants cases made, too (NIST RBAC: an SSD
    constraint that current assignments break is refused); the file's own grants were
    checked when it was parsed."""
    rules = access_rules(document.policy)
    if rules is None:
        return []
    today = timezone.localdate()
    own = [(a.person, a.role, a.valid_from, a.valid_to) for a in document.policy.assignments]
    granted = [
        (person, role, max(start, today), end, source)
        for person, role, start, end, source in RoleAssignment.objects.exclude(source="policy")
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .values_list("user__username", "role__key", "valid_from", "valid_to", "source")
        if rules.knows(role)
    ]
    if not granted:
        return []
    grants = own + [row[:4] for row in granted]
    return [
        document.problem(("access",), f"access: {message} (with {granted[i - len(own)][4]})")
        if i >= len(own)
        else document.problem(("assignments", i), f"access: {message}")
        for i, message in grant_problems(rules, grants)
    ]


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
        apply = _Apply(document, actor, today)
        apply.units()
        apply.people()
        apply.memberships()
        apply.responsibilities()
        apply.roles()
        apply.assignments()
        latest = PolicyVersion.objects.order_by("-number").first()
        number = (latest.number + 1) if latest else 1
        apply.processes(number)
        apply.credit(number)
        apply.walls()
        if latest is not None and latest.sha256 == digest and not apply.changes:
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
        record(
            "policy.loaded",
            actor=actor,
            object_type="policy",
            object_id=version.number,
            before={"number": latest.number, "sha256": latest.sha256} if latest else None,
            after={"number": version.number, "sha256": digest, "file": file},
            reason=reason or f"{len(apply.changes)} changes",
        )
        return LoadResult(version, apply.changes)


class _Apply:
    """The difference between the database and a policy, applied with one audit event each."""

    def __init__(self, document: PolicyDocument, actor: str, today: date) -> None:
        self.policy = document.policy
        self.org = to_organisation(document.policy)
        self.actor = actor
        self.today = today
        self.changes: list[str] = []
        self.units_by_key: dict[str, Unit] = {}
        self.users_by_name: dict[str, Any] = {}
        self.roles_by_key: dict[str, Role] = {}

    def _audit(
        self, action: str, object_type: str, object_id: Any, before: Any, after: Any
    ) -> None:
        self.changes.append(f"{action} {object_id}")
        record(
            action,
            actor=self.actor,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
        )

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
        self._sync_dated(
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
        )

    def responsibilities(self) -> None:
        rows = Responsibility.objects.select_for_update().select_related("user", "unit")
        self._sync_dated(
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
        )

    def roles(self) -> None:
        existing = {r.key: r for r in Role.objects.select_for_update().prefetch_related("contains")}
        children: dict[str, list[str]] = {
            r.key: sorted(c.key for c in r.contains.all()) for r in existing.values()
        }
        for spec in self.policy.roles:
            wanted = {
                "name": spec.name,
                "description": spec.description,
                "permissions": sorted(set(spec.permissions)),
                "contains": sorted(set(spec.contains)),
                "retired": False,
            }
            role = existing.get(spec.id)
            before = None if role is None else _role_state(role, children[spec.id])
            if before == wanted:
                continue
            if role is None:
                role = Role(key=spec.id)
                existing[spec.id] = role
            role.name, role.description = spec.name, spec.description
            role.permissions, role.retired_at = wanted["permissions"], None
            role.save()
            action = "access.role.created" if before is None else "access.role.changed"
            self._audit(action, "role", spec.id, before, wanted)
        for spec in self.policy.roles:
            existing[spec.id].contains.set([existing[c] for c in spec.contains])
        for key, role in existing.items():
            if key not in {s.id for s in self.policy.roles} and role.retired_at is None:
                before = _role_state(role, children.get(key, []))
                role.retired_at = timezone.now()
                role.save(update_fields=["retired_at", "last_updated"])
                self._audit("access.role.retired", "role", key, before, before | {"retired": True})
        self.roles_by_key = existing

    def assignments(self) -> None:
        # only the policy's own grants: those of role-grant cases are not the policy's to end
        rows = (
            RoleAssignment.objects.select_for_update()
            .filter(source="policy")
            .select_related("user", "role")
        )
        self._sync_dated(
            "assignment",
            {(a.user.username, a.role.key, a.valid_from): a for a in rows},
            {(s.person, s.role, s.valid_from): s for s in self.policy.assignments},
            lambda key, spec: RoleAssignment(
                user=self.users_by_name[key[0]],
                role=self.roles_by_key[key[1]],
                valid_from=spec.valid_from,
                valid_to=spec.valid_to,
                granted_by=self.actor,
                source="policy",
            ),
            app="access",
        )

    def processes(self, policy_number: int) -> None:
        existing = {p.key: p for p in Process.objects.select_for_update()}
        for spec in self.policy.processes:
            definition = spec.model_dump(mode="json")
            row = existing.get(spec.id)
            if row is not None and row.definition == definition and row.retired_at is None:
                continue
            before = (
                None
                if row is None
                else {"definition": row.definition, "retired": row.retired_at is not None}
            )
            if row is None:
                row = Process(key=spec.id)
            row.name, row.definition = spec.name, definition
            row.policy_version, row.retired_at = policy_number, None
            row.save()
            action = "cases.process.created" if before is None else "cases.process.changed"
            self._audit(action, "process", spec.id, before, {"definition": definition})
        wanted = {s.id for s in self.policy.processes}
        for key, row in existing.items():
            if key not in wanted and row.retired_at is None:
                row.retired_at = timezone.now()
                row.save(update_fields=["retired_at", "last_updated"])
                self._audit(
                    "cases.process.retired", "process", key, {"retired": False}, {"retired": True}
                )

    def credit(self, policy_number: int) -> None:
        """#5: keep the ``credit:`` section (levels, thresholds, criteria) with its history.

        A new record only when the section changed; credit cases freeze the section they
        start under, so a change never alters a case in flight.
        """
        from backoffice.credit.models import CreditPolicyRecord  # the credit app builds on org

        wanted = self.policy.credit.model_dump(mode="json") if self.policy.credit else None
        latest = CreditPolicyRecord.objects.select_for_update().order_by("-number").first()
        before = latest.definition if latest else None
        if before == wanted:
            return
        CreditPolicyRecord.objects.create(number=policy_number, definition=wanted)
        self._audit("credit.policy.changed", "credit_policy", policy_number, before, wanted)

    def walls(self) -> None:
        """#8: conflict classes and issuers (areas and barriers are read from the policy)."""
        sync_issuers(self.policy.walls, self._audit)

    def _sync_dated(
        self,
        kind: str,
        existing: dict[tuple[Any, ...], Any],
        wanted: dict[tuple[Any, ...], Any],
        build: Any,
        app: str = "org",
    ) -> None:
        """Create what is new, change ``valid_to`` where it differs, end what is gone."""
        for key, spec in wanted.items():
            row = existing.get(key)
            ident = _ident(key)
            if row is None:
                build(key, spec).save()
                self._audit(f"{app}.{kind}.created", kind, ident, None, _dated(spec))
            elif row.valid_to != spec.valid_to:
                before = _dated(row)
                row.valid_to = spec.valid_to
                row.save(update_fields=["valid_to", "last_updated"])
                self._audit(f"{app}.{kind}.changed", kind, ident, before, _dated(row))
        for key, row in existing.items():
            if key in wanted or (row.valid_to is not None and row.valid_to <= self.today):
                continue
            # What the policy no longer lists ends today; its past stays on record.
            before = _dated(row)
            row.valid_to = max(self.today, row.valid_from)
            row.save(update_fields=["valid_to", "last_updated"])
            self._audit(f"{app}.{kind}.ended", kind, _ident(key), before, _dated(row))


def _ident(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def _dated(row: Any) -> dict[str, Any]:
    return {"valid_from": row.valid_from, "valid_to": row.valid_to}


def _role_state(role: Role, contains: list[str]) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "contains": contains,
        "retired": role.retired_at is not None,
    }


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
