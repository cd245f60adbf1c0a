"""#18: the outbox and what leaves it: mail to the people a case waits for, reminders,
escalations, daily digests, and webhooks to approved subscribers.

Every step the worker takes is idempotent: a delivery row is unique per person (or
subscription) and event, and a mail's ``Message-ID`` follows from that key, so a task that
runs again after a crash never produces a second mail or a second delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.cases.engines import open_statuses
from backoffice.cases.models import Case, CaseEvent
from backoffice.cases.queries import inbox_cases, may_see, visible_cases
from backoffice.core import notify as rules
from backoffice.core.errors import DomainError
from backoffice.core.notify import backoff, next_digest
from backoffice.notify.models import (
    MailDelivery,
    NotificationSetting,
    OutboxEvent,
    Webhook,
    WebhookDelivery,
)
from backoffice.org.models import Membership

__all__ = [
    "EVENT_TYPES",
    "do_rotate_secret",
    "do_set_notification_mode",
    "events_for",
    "notification_mode",
    "on_audit_events",
    "people_waited_for",
]

logger = logging.getLogger(__name__)

#: what the outbox reports, by the audit action it comes from
_CASE_KINDS = {"submitted", "approved", "released", "rejected", "returned", "withdrawn", "voted"}
_OTHER = {
    "access.assignment.created": "grant.made",
    "access.emergency.started": "emergency.started",
}
EVENT_TYPES = sorted({f"case.{k}" for k in _CASE_KINDS} | set(_OTHER.values()))


# -- into the outbox (in the transaction of the change) ------------------------------------


def _outbox_event(event: AuditEvent) -> OutboxEvent | None:
    after = event.after if isinstance(event.after, dict) else {}
    if event.action.startswith("case.") and event.action[5:] in _CASE_KINDS:
        case_id = int(event.object_id)
        data = {
            "case": case_id,
            "process": after.get("process", ""),
            "status": after.get("status", ""),
            "step": after.get("on_step", ""),
        }
        return OutboxEvent(
            type=event.action, at=event.at, case_id=case_id, audit_seq=event.seq, data=data
        )
    if event.action in _OTHER:
        data = {"object": event.object_id} | {
            k: after[k] for k in ("person", "role", "valid_from", "valid_to") if k in after
        }
        return OutboxEvent(type=_OTHER[event.action], at=event.at, audit_seq=event.seq, data=data)
    return None


def on_audit_events(events: Sequence[AuditEvent]) -> None:
    """The audit chain's listener: events for the world outside go into the outbox, and the
    task that dispatches them into the task table, in the appending transaction."""
    rows = [row for row in map(_outbox_event, events) if row is not None]
    if not rows:
        return
    created = OutboxEvent.objects.bulk_create(rows)
    dispatch.enqueue([row.pk for row in created])


# -- who a case waits for ------------------------------------------------------------------


def _people() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__isnull=False)
        .exclude(email="")
        .select_related("profile")
        .order_by("username")
    )


def people_waited_for(case: Case) -> list[Any]:
    """The people whose inbox holds the case now: the inbox's own rule, asked per person
    (those who may act at the current step, never its maker, never outside its wall)."""
    if case.status not in open_statuses():
        return []
    waiting = []
    for user in _people():
        if user.pk == case.maker_id:
            continue
        actor = Actor(user)
        if case.process.key not in actor.processes:
            continue
        if inbox_cases(actor, case.process.key).filter(pk=case.pk).exists():
            waiting.append(user)
    return waiting


def _wait_key(case: Case) -> str:
    """One wait of a case at one step: a resubmission or the next step is a new one."""
    rounds = CaseEvent.objects.filter(case_id=case.pk, kind="submitted").count()
    return f"{case.pk}:{case.current_step}:{rounds}"


def line_managers(user: Any, day: Any) -> list[Any]:
    """The heads of the person's units (the parent unit's head where they head it themselves)."""
    current = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    units: list[Any] = [
        m.unit for m in Membership.objects.filter(current, user=user).select_related("unit")
    ]
    heads: dict[int, Any] = {}
    for first in units:
        unit: Any = first
        while unit is not None:
            found = [
                m.user
                for m in Membership.objects.filter(current, unit=unit, role="head")
                .select_related("user")
                .exclude(user=user)
            ]
            if found:
                heads.update((h.pk, h) for h in found if h.is_active and h.email)
                break
            unit = unit.parent
    return list(heads.values())


# -- the person's choice -------------------------------------------------------------------


def notification_mode(user: Any) -> str:
    row = NotificationSetting.objects.filter(user=user).first()
    return row.mode if row is not None else NotificationSetting.EACH


def do_set_notification_mode(actor: Actor, mode: str) -> None:
    """Each person chooses for themself only: every mail, a daily digest, or none."""
    if mode not in {NotificationSetting.EACH, NotificationSetting.DIGEST, NotificationSetting.NONE}:
        raise DomainError("input.mode", "Choose every mail, a daily digest or no mail.")
    with transaction.atomic():
        before = notification_mode(actor.user)
        NotificationSetting.objects.update_or_create(user=actor.user, defaults={"mode": mode})
        record(
            "notify.settings.changed",
            actor=actor.person,
            object_type="person",
            object_id=actor.person,
            before={"mode": before},
            after={"mode": mode},
        )


# -- the worker's steps --------------------------------------------------------------------


def dispatch_events(event_ids: Iterable[int]) -> None:
    """Fan the events out: mails to the people a case now waits for, its reminders and
    escalation (tasks due later), and a delivery per matching webhook. One transaction."""
    with transaction.atomic():
        events = list(OutboxEvent.objects.filter(pk__in=list(event_ids)).order_by("pk"))
        for event in events:
            if event.case_id is not None:
                case = Case.objects.select_related("process").filter(pk=event.case_id).first()
                if case is not None and case.status in open_statuses():
                    created = _mail_waiting(case, event)
                    for delivery in created:
                        if not delivery.digest:
                            send_mail.enqueue(delivery.pk)
                    sla = case.spec.sla
                    if created and sla is not None:
                        key, now = _wait_key(case), timezone.now()
                        remind.using(run_after=now + sla.remind_after).enqueue(case.pk, key)
                        if (later := sla.escalate_after) is not None:
                            escalate.using(run_after=now + later).enqueue(case.pk, key)
            for webhook in _subscribed(event):
                _, new = WebhookDelivery.objects.get_or_create(webhook=webhook, event=event)
                if new:
                    push_webhook.enqueue(webhook.pk)


def _mail_waiting(case: Case, event: OutboxEvent) -> list[MailDelivery]:
    key = f"waiting:{_wait_key(case)}"
    return _deliveries(people_waited_for(case), key, "waiting", case, event)


def _deliveries(
    people: Iterable[Any], key: str, kind: str, case: Case, event: OutboxEvent | None = None
) -> list[MailDelivery]:
    created = []
    for user in people:
        mode = notification_mode(user)
        if mode == NotificationSetting.NONE:
            continue
        delivery, new = MailDelivery.objects.get_or_create(
            user=user,
            key=key,
            defaults={
                "kind": kind,
                "event": event,
                "case_id": case.pk,
                "digest": mode == NotificationSetting.DIGEST and kind == "waiting",
            },
        )
        if new:
            created.append(delivery)
    return created


def remind_waiting(case_id: int, key: str, kind: str) -> None:
    """The SLA passed: remind those the case still waits for, or escalate to their managers."""
    with transaction.atomic():
        case = Case.objects.select_related("process").filter(pk=case_id).first()
        if case is None or case.status not in open_statuses() or _wait_key(case) != key:
            return  # acted on meanwhile
        waiting = people_waited_for(case)
        if kind == "escalation":
            today = timezone.localdate()
            managers = {m.pk: m for u in waiting for m in line_managers(u, today)}
            people = [m for pk, m in managers.items() if pk != case.maker_id]
        else:
            people = waiting
        for delivery in _deliveries(people, f"{kind}:{key}", kind, case):
            send_mail.enqueue(delivery.pk)


def message_id(delivery: MailDelivery) -> str:
    """The same mail always has the same id: a resend after a crash is the same message."""
    digest = hashlib.sha256(f"{delivery.user_id}:{delivery.key}".encode()).hexdigest()[:32]
    return f"<{digest}@backoffice>"


def _language(user: Any) -> str:
    return str(getattr(getattr(user, "profile", None), "language", settings.LANGUAGE_CODE))


def render_mail(delivery: MailDelivery, items: Sequence[MailDelivery] = ()) -> EmailMessage:
    """The mail, in the person's language; a case's title only if the person may see it."""
    user = delivery.user
    actor = Actor(user)
    cases = []
    for item in items or [delivery]:
        case = (
            Case.objects.select_related("process").filter(pk=item.case_id).first()
            if item.case_id
            else None
        )
        if case is None:
            continue
        visible = may_see(actor, case)
        cases.append(
            {
                "id": case.pk,
                "process": case.process.name,
                "title": case.title if visible else "",
                "visible": visible,
                "kind": item.kind,
                "url": f"{settings.BACKOFFICE_URL}/cases/{case.pk}/" if visible else "",
            }
        )
    context = {
        "name": getattr(getattr(user, "profile", None), "display_name", user.get_username()),
        "kind": delivery.kind,
        "cases": cases,
        "settings_url": f"{settings.BACKOFFICE_URL}/settings/notifications/",
        "inbox_url": f"{settings.BACKOFFICE_URL}/inbox/",
    }
    with translation.override(_language(user)):
        subject = render_to_string("notify/mail_subject.txt", context).strip()
        body = render_to_string("notify/mail_body.txt", context)
    message = EmailMessage(subject, body, None, [user.email])
    message.extra_headers["Message-ID"] = message_id(delivery)
    message.extra_headers["List-Unsubscribe"] = f"<{context['settings_url']}>"
    message.extra_headers["X-Backoffice-Key"] = delivery.key
    return message


def send_delivery(delivery_id: int) -> bool:
    """Send one mail unless it went already; False if the server refused (retry later)."""
    delivery = MailDelivery.objects.select_related("user__profile").get(pk=delivery_id)
    if delivery.sent_at is not None:
        return True
    message = render_mail(delivery)
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        connection.send_messages([message])
    except OSError as error:  # smtplib's errors are OSErrors
        MailDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts + 1, last_error=str(error)[:500]
        )
        connection.close()
        return False
    # between the server's "250" and this update a crash resends the same Message-ID
    MailDelivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now(), subject=str(message.subject)[:300]
    )
    connection.close()
    return True


def send_digests(now: datetime) -> int:
    """Each person who prefers a digest gets one mail with what waited for them today."""
    pending = MailDelivery.objects.filter(digest=True, sent_at__isnull=True).select_related(
        "user__profile"
    )
    by_user: dict[int, list[MailDelivery]] = {}
    for item in pending:
        by_user.setdefault(item.user_id, []).append(item)
    sent = 0
    for items in by_user.values():
        user = items[0].user
        key = f"digest:{now.date().isoformat()}:{items[-1].pk}"
        digest, _ = MailDelivery.objects.get_or_create(
            user=user, key=key, defaults={"kind": "digest"}
        )
        if digest.sent_at is None:
            message = render_mail(digest, items)
            connection = get_connection(fail_silently=False)
            connection.send_messages([message])
        with transaction.atomic():
            MailDelivery.objects.filter(pk=digest.pk).update(sent_at=timezone.now())
            MailDelivery.objects.filter(pk__in=[i.pk for i in items]).update(sent_at=timezone.now())
        sent += 1
    return sent


# -- webhooks ------------------------------------------------------------------------------


def _subscribed(event: OutboxEvent) -> list[Webhook]:
    hooks = Webhook.objects.filter(active=True, from_event__lt=event.pk).select_related(
        "subscriber"
    )
    matching = [h for h in hooks if "*" in h.types or event.type in h.types]
    if event.case_id is None or not matching:
        return matching
    case = Case.objects.select_related("process").filter(pk=event.case_id).first()
    if case is None:
        return []
    return [h for h in matching if may_see(Actor(h.subscriber), case)]


def event_body(event: OutboxEvent) -> dict[str, Any]:
    """What a subscriber and the feed see of an event (Standard Webhooks' payload shape)."""
    return {
        "id": event.pk,
        "type": event.type,
        "timestamp": event.at.isoformat(),
        "data": event.data,
    }


def _secrets(webhook: Webhook, now: datetime) -> list[str]:
    keep_previous = webhook.previous_secret and (
        webhook.previous_until is not None and webhook.previous_until > now
    )
    return [webhook.secret, *([webhook.previous_secret] if keep_previous else [])]


def push_deliveries(webhook_id: int, *, retry: bool = False) -> timedelta | None:
    """Deliver the subscription's waiting events in event order, stopping at the first
    failure. Returns the wait before the next try, or None when nothing is left to do (or
    a retry is scheduled already: a new event waits behind the one that failed)."""
    webhook = Webhook.objects.filter(pk=webhook_id, active=True).first()
    if webhook is None or (webhook.retry_at is not None and not retry):
        return None
    pending = WebhookDelivery.objects.filter(
        webhook=webhook, delivered_at__isnull=True
    ).select_related("event")
    for delivery in pending.order_by("event_id"):
        now = timezone.now()
        body = json.dumps(event_body(delivery.event), separators=(",", ":")).encode()
        msg_id = f"msg_{delivery.event_id}"
        headers = rules.webhook_headers(_secrets(webhook, now), msg_id, int(now.timestamp()), body)
        # an http(s) URL that a released case approved (CreateWebhook.check)
        request = urllib.request.Request(webhook.url, data=body, headers=headers, method="POST")  # noqa: S310
        status = ""
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                ok = 200 <= response.status < 300
                status = str(response.status)
        except urllib.error.HTTPError as error:
            ok, status = False, str(error.code)
        except (OSError, ValueError) as error:
            ok, status = False, type(error).__name__
        if ok:
            with transaction.atomic():
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    delivered_at=timezone.now(), attempts=delivery.attempts + 1, last_status=status
                )
                Webhook.objects.filter(pk=webhook.pk).update(failures=0, retry_at=None)
            continue
        attempts = delivery.attempts + 1
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts, last_status=status[:100]
            )
            if attempts >= rules.MAX_ATTEMPTS:
                _disable(webhook, f"{attempts} failed deliveries in a row (last: {status})")
                return None
            wait = rules.backoff(attempts)
            Webhook.objects.filter(pk=webhook.pk).update(
                failures=attempts, retry_at=timezone.now() + wait
            )
        return wait
    Webhook.objects.filter(pk=webhook.pk, retry_at__isnull=False).update(retry_at=None)
    return None


def _disable(webhook: Webhook, reason: str) -> None:
    """Stop a failing subscription and alert the people who created and approved it."""
    Webhook.objects.filter(pk=webhook.pk).update(active=False, disabled_reason=reason[:300])
    record(
        "notify.webhook.disabled",
        actor="system",
        object_type="webhook",
        object_id=webhook.pk,
        after={"url": webhook.url, "active": False},
        reason=reason,
    )
    case = Case.objects.filter(pk=webhook.case_id).first()
    involved = {e.actor for e in CaseEvent.objects.filter(case_id=webhook.case_id)}
    people = (
        get_user_model().objects.filter(username__in=involved, is_active=True).exclude(email="")
    )
    if case is not None:
        for delivery in _deliveries(people, f"webhook-disabled:{webhook.pk}", "alert", case):
            send_mail.enqueue(delivery.pk)


def do_rotate_secret(actor: str, webhook_id: int, *, overlap: timedelta) -> str:
    """A new signing secret; the old one still signs beside it for ``overlap`` so that the
    receiver can switch without losing a message."""
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook_id)
        webhook.previous_secret, webhook.secret = webhook.secret, rules.new_secret()
        webhook.previous_until = timezone.now() + overlap
        webhook.save(update_fields=["previous_secret", "secret", "previous_until"])
        record(
            "notify.webhook.secret_rotated",
            actor=actor,
            object_type="webhook",
            object_id=webhook.pk,
            after={"previous_until": webhook.previous_until.isoformat()},
        )
    return webhook.secret


# -- the feed ------------------------------------------------------------------------------


def events_for(actor: Actor) -> QuerySet[OutboxEvent]:
    """The events the actor may know of: a case's only if they may see the case."""
    return OutboxEvent.objects.filter(
        Q(case_id__isnull=True) | Q(case_id__in=visible_cases(actor).values("pk"))
    )


# -- the worker's tasks (django-tasks; ``backoffice worker`` runs them) ----------------------
# Each is idempotent (above): a task that runs again after the worker died half-way sends
# nothing twice. Retries and the daily digest are new tasks with a later ``run_after``,
# kept by the library in our database; nothing here keeps time itself.

#: a mail the server refused is tried again this often, then left with its error
MAIL_ATTEMPTS = 8


@task()
def dispatch(event_ids: list[int]) -> None:
    dispatch_events(event_ids)


@task()
def send_mail(delivery_id: int) -> None:
    if send_delivery(delivery_id):
        return
    attempts = MailDelivery.objects.get(pk=delivery_id).attempts
    if attempts < MAIL_ATTEMPTS:
        send_mail.using(run_after=timezone.now() + backoff(attempts)).enqueue(delivery_id)


@task()
def remind(case_id: int, key: str) -> None:
    remind_waiting(case_id, key, "reminder")


@task()
def escalate(case_id: int, key: str) -> None:
    remind_waiting(case_id, key, "escalation")


@task()
def push_webhook(webhook_id: int, retry: bool = False) -> None:
    """Deliver in event order; after a failure one retry is scheduled, with back-off."""
    wait = push_deliveries(webhook_id, retry=retry)
    if wait is not None:
        push_webhook.using(run_after=timezone.now() + wait).enqueue(webhook_id, True)


@task()
def digest() -> None:
    """The daily digest; tomorrow's is enqueued first, so a mail server that is down today
    does not stop the digests (what it could not send goes out with the next one)."""
    with transaction.atomic():
        schedule_digest()
    send_digests(timezone.localtime())


def schedule_digest() -> None:
    """Make sure one digest task is waiting (the worker calls it when it starts)."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=digest.module_path, status="READY")
    if not waiting.exists():
        due = next_digest(timezone.localtime(), settings.DIGEST_HOUR)
        digest.using(run_after=due).enqueue()
