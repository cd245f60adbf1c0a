"""Loading the walls section of a policy: conflict classes and issuers become rows.

The walls app's applier (``WALLS_APPLIER``, registered in ``apps.ready``) runs in the
policy load's transaction, with its audit callback: one event per change. Areas, barriers
and walled processes are read from the live policy itself (``queries.get_walls``). What
disappears is retired, never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from backoffice.core.walls import WallsSpec
from backoffice.org.appliers import Applier, PolicyLoad
from backoffice.walls.models import ConflictClass, Issuer

__all__ = ["WALLS_APPLIER", "sync_issuers"]

Audit = Callable[[str, str, Any, Any, Any], None]


def sync_issuers(spec: WallsSpec | None, audit: Audit) -> None:
    classes = {c.key: c for c in ConflictClass.objects.select_for_update()}
    issuers = {
        i.key: i for i in Issuer.objects.select_for_update().select_related("conflict_class")
    }
    wanted_classes = {c.id: c for c in spec.conflict_classes} if spec else {}
    for key, class_spec in wanted_classes.items():
        row = classes.get(key)
        wanted = {"name": class_spec.name, "retired": False}
        before = None if row is None else {"name": row.name, "retired": row.retired_at is not None}
        if before == wanted:
            continue
        row = row or ConflictClass(key=key)
        row.name, row.retired_at = class_spec.name, None
        row.save()
        classes[key] = row
        action = "walls.class.created" if before is None else "walls.class.changed"
        audit(action, "conflict_class", key, before, wanted)
    wanted_issuers = {i.id: (i, c.id) for c in wanted_classes.values() for i in c.issuers}
    for key, (issuer_spec, class_key) in wanted_issuers.items():
        row = issuers.get(key)
        wanted = {"name": issuer_spec.name, "conflict_class": class_key, "retired": False}
        before = None if row is None else _issuer_state(row)
        if before == wanted:
            continue
        row = row or Issuer(key=key)
        row.name, row.conflict_class, row.retired_at = issuer_spec.name, classes[class_key], None
        row.save()
        action = "walls.issuer.created" if before is None else "walls.issuer.changed"
        audit(action, "issuer", key, before, wanted)
    now = timezone.now()
    for key, row in issuers.items():
        if key not in wanted_issuers and row.retired_at is None:
            before = _issuer_state(row)
            row.retired_at = now
            row.save(update_fields=["retired_at", "last_updated"])
            audit("walls.issuer.retired", "issuer", key, before, before | {"retired": True})
    for key, row in classes.items():
        if key not in wanted_classes and row.retired_at is None:
            row.retired_at = now
            row.save(update_fields=["retired_at", "last_updated"])
            audit(
                "walls.class.retired", "conflict_class", key, {"retired": False}, {"retired": True}
            )


def _issuer_state(row: Issuer) -> dict[str, Any]:
    return {
        "name": row.name,
        "conflict_class": row.conflict_class.key,
        "retired": row.retired_at is not None,
    }


def _apply_walls(load: PolicyLoad) -> None:
    sync_issuers(load.policy.walls, load.audit)


WALLS_APPLIER = Applier("walls", 90, _apply_walls)
