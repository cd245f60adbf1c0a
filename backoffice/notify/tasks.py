"""#18: the background worker's tasks (django-tasks, database backend: ``backoffice worker``).

Each is idempotent (see ``services``): a task that runs again after the worker died
half-way sends nothing twice. Retries and the daily digest are new tasks with a later
``run_after``, written by the library in our database; nothing here keeps time itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from backoffice.core.notify import backoff, next_digest
from backoffice.notify import services

#: a mail the server refused is tried again this often, then left with its error
MAIL_ATTEMPTS = 8


@task()
def dispatch(event_ids: list[int]) -> None:
    services.dispatch_events(event_ids)


@task()
def send_mail(delivery_id: int) -> None:
    if services.send_delivery(delivery_id):
        return
    attempts = services.MailDelivery.objects.get(pk=delivery_id).attempts
    if attempts < MAIL_ATTEMPTS:
        send_mail.using(run_after=timezone.now() + backoff(attempts)).enqueue(delivery_id)


@task()
def remind(case_id: int, key: str) -> None:
    services.remind_waiting(case_id, key, "reminder")


@task()
def escalate(case_id: int, key: str) -> None:
    services.remind_waiting(case_id, key, "escalation")


@task()
def push_webhook(webhook_id: int, retry: bool = False) -> None:
    """Deliver in event order; after a failure one retry is scheduled, with back-off."""
    wait = services.push_deliveries(webhook_id, retry=retry)
    if wait is not None:
        push_webhook.using(run_after=timezone.now() + wait).enqueue(webhook_id, True)


@task()
def digest() -> None:
    """The daily digest; it enqueues tomorrow's in the same transaction as today's end."""
    now = timezone.localtime()
    services.send_digests(now)
    with transaction.atomic():
        schedule_digest(now)


def schedule_digest(now: object = None) -> None:
    """Make sure one digest task is waiting (the worker calls it when it starts)."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=digest.module_path, status="READY")
    if not waiting.exists():
        due = next_digest(timezone.localtime(), settings.DIGEST_HOUR)
        digest.using(run_after=due).enqueue()
