"""#18: the background worker: django-tasks-db's own worker loop, started after a recovery
step that the library leaves to its user.

A worker killed with SIGKILL leaves the task it was running marked RUNNING for ever. Worker
ids here are ``host:pid``; on start, tasks that a worker on this host claimed and whose
process is gone are made READY again. The tasks are idempotent, so running one again sends
nothing twice.
"""

from __future__ import annotations

import os
import socket

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

__all__ = ["recover_abandoned", "run_worker", "worker_id"]


def worker_id(pid: int | None = None) -> str:
    return f"{socket.gethostname()[:40]}:{pid or os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_abandoned() -> int:
    """RUNNING tasks whose worker on this host died are READY again; returns how many."""
    host = socket.gethostname()[:40] + ":"
    stale = []
    for row in DBTaskResult.objects.filter(status="RUNNING").only("id", "worker_ids"):
        last = row.worker_ids[-1] if row.worker_ids else ""
        if last.startswith(host):
            pid = last[len(host) :]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                stale.append(row.id)
    if stale:
        with transaction.atomic():
            DBTaskResult.objects.filter(id__in=stale, status="RUNNING").update(status="READY")
    return len(stale)


def run_worker(*, batch: bool = False, interval: float = 1.0) -> None:
    """Recover, make sure the daily digest is scheduled, then run tasks (``batch``: until
    none is ready, for tests and ``backoffice worker --batch``)."""
    from backoffice.notify.services import schedule_digest

    recover_abandoned()
    with transaction.atomic():
        schedule_digest()
    worker = Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id(),
        excluded_queue_names=[],
    )
    if not batch:
        worker.configure_signals()
    worker.run()
