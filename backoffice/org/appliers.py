"""Loading a policy, app by app: each app checks and applies its own section.

The organisation app owns the policy's versions and its own tables (units, people,
memberships, board duties). Roles and assignments belong to ``access``, processes to
``cases``, the credit section to ``credit``, issuers to ``walls``: each registers an
applier in its ``AppConfig.ready`` (STYLE 17), and ``services.apply_policy`` calls them in
their order inside one transaction. None of them writes another app's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backoffice.audit.services import record
from backoffice.core.org import Organisation
from backoffice.core.policy import Policy, PolicyDocument, Problem

__all__ = ["PolicyLoad", "Applier", "register_applier", "appliers", "dated", "ident"]


@dataclass
class PolicyLoad:
    """One policy being applied: what every applier reads, and what they found for each
    other (the people and units they made or kept, by key)."""

    document: PolicyDocument
    org: Organisation
    actor: str
    today: date
    number: int
    changes: list[str] = field(default_factory=list)
    users_by_name: dict[str, Any] = field(default_factory=dict)
    units_by_key: dict[str, Any] = field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        return self.document.policy

    def audit(self, action: str, object_type: str, object_id: Any, before: Any, after: Any) -> None:
        """One audit event per change, in the load's transaction."""
        self.changes.append(f"{action} {object_id}")
        record(
            action,
            actor=self.actor,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
        )

    def sync_dated(
        self,
        kind: str,
        existing: dict[tuple[Any, ...], Any],
        wanted: dict[tuple[Any, ...], Any],
        build: Callable[[tuple[Any, ...], Any], Any],
        app: str,
    ) -> None:
        """Dated rows (memberships, grants): create what is new, change ``valid_to`` where it
        differs, end what is gone (today; its past stays on record)."""
        for key, spec in wanted.items():
            row = existing.get(key)
            if row is None:
                build(key, spec).save()
                self.audit(f"{app}.{kind}.created", kind, ident(key), None, dated(spec))
            elif row.valid_to != spec.valid_to:
                before = dated(row)
                row.valid_to = spec.valid_to
                row.save(update_fields=["valid_to", "last_updated"])
                self.audit(f"{app}.{kind}.changed", kind, ident(key), before, dated(row))
        for key, row in existing.items():
            if key in wanted or (row.valid_to is not None and row.valid_to <= self.today):
                continue
            before = dated(row)
            row.valid_to = max(self.today, row.valid_from)
            row.save(update_fields=["valid_to", "last_updated"])
            self.audit(f"{app}.{kind}.ended", kind, ident(key), before, dated(row))


@dataclass(frozen=True)
class Applier:
    """An app's part of loading a policy: ``check`` before anything is written (problems
    refuse the whole policy), ``apply`` inside the load's transaction."""

    name: str
    order: int
    apply: Callable[[PolicyLoad], None]
    check: Callable[[PolicyDocument], list[Problem]] | None = None


_APPLIERS: dict[str, Applier] = {}


def register_applier(applier: Applier) -> None:
    _APPLIERS[applier.name] = applier


def appliers() -> list[Applier]:
    """Every registered applier, in the order they run."""
    return sorted(_APPLIERS.values(), key=lambda a: (a.order, a.name))


def ident(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def dated(row: Any) -> dict[str, Any]:
    return {"valid_from": row.valid_from, "valid_to": row.valid_to}
