"""The cases app's part of loading a policy: its processes, and the check that each names
an effect some app registered (and one that derives what the process says is derived)."""

from __future__ import annotations

from django.utils import timezone

from backoffice.base.effects import get_effect, registered
from backoffice.cases.models import Process
from backoffice.core.policy import PolicyDocument, Problem
from backoffice.org.appliers import Applier, PolicyLoad

__all__ = ["PROCESSES_APPLIER"]


def apply_processes(load: PolicyLoad) -> None:
    """Processes of the policy; one it no longer has is retired (cases keep their rules)."""
    existing = {p.key: p for p in Process.objects.select_for_update()}
    for spec in load.policy.processes:
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
        row.policy_version, row.retired_at = load.number, None
        row.save()
        action = "cases.process.created" if before is None else "cases.process.changed"
        load.audit(action, "process", spec.id, before, {"definition": definition})
    wanted = {s.id for s in load.policy.processes}
    for key, row in existing.items():
        if key not in wanted and row.retired_at is None:
            row.retired_at = timezone.now()
            row.save(update_fields=["retired_at", "last_updated"])
            load.audit(
                "cases.process.retired", "process", key, {"retired": False}, {"retired": True}
            )


def check_processes(document: PolicyDocument) -> list[Problem]:
    processes = document.policy.processes
    problems = [
        document.problem(("processes", index, "effect"), f"unknown effect {process.effect!r}")
        for index, process in enumerate(processes)
        if process.effect and process.effect not in registered()
    ]
    problems += [
        document.problem(
            ("processes", index, "payload", position, "derived"),
            f"process {process.id!r}: field {field.name!r} is derived, but "
            f"{process.effect or 'no effect'!r} derives nothing",
        )
        for index, process in enumerate(processes)
        for position, field in enumerate(process.payload)
        if field.derived
        and not hasattr(
            get_effect(process.effect) if process.effect in registered() else None, "derive"
        )
    ]
    return problems


PROCESSES_APPLIER = Applier("processes", 70, apply_processes, check_processes)
