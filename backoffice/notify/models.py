"""#18: the outbox of events, what went out of it (mail, webhooks), and who wants what.

An ``OutboxEvent`` is written in the transaction of the change it reports (through the
audit chain's listener), together with the task that dispatches it: both commit or neither.
Each mail and each webhook call is a row whose key is unique per person (or subscription)
and event, so a worker that dies half-way and runs again never sends a second one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from backoffice.base.models import TimeStamped

__all__ = ["MailDelivery", "NotificationSetting", "OutboxEvent", "WebhookDelivery", "Webhook"]


class OutboxEvent(models.Model):
    """One event for the world outside: mail, webhooks and the feed read it; its id is the
    feed's order."""

    type = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField()
    #: the case it is about (its walls decide who may learn of it); null for others
    case_id = models.BigIntegerField(null=True, blank=True)
    audit_seq = models.PositiveBigIntegerField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]

    @override
    def __str__(self) -> str:
        return f"{self.pk} {self.type}"


class NotificationSetting(TimeStamped):
    """How a person wants to hear of cases waiting for them."""

    EACH, DIGEST, NONE = "each", "digest", "none"
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_setting"
    )
    mode = models.CharField(
        max_length=8,
        choices=[(EACH, "each"), (DIGEST, "digest"), (NONE, "none")],
        default=EACH,
    )

    @override
    def __str__(self) -> str:
        return f"{self.user} {self.mode}"


class MailDelivery(models.Model):
    """One mail to one person about one thing (``key``: ``waiting:<case>:<step>``,
    ``reminder:…``, ``escalation:…``, ``digest:<date>``); unique, so never sent twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=16)
    event = models.ForeignKey(OutboxEvent, null=True, blank=True, on_delete=models.CASCADE)
    case_id = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    #: waits for the person's daily digest instead of leaving at once
    digest = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notify_maildelivery_once"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.key} to {self.user}"


class Webhook(TimeStamped):
    """A subscription, created by a released ``webhook-subscription`` case (four eyes)."""

    url = models.URLField(max_length=500)
    #: event types, e.g. ``case.released``; ``*`` for all
    types = models.JSONField(default=list)
    #: whose visibility filters what it receives (walls): no more than this person may read
    subscriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhooks"
    )
    case_id = models.BigIntegerField(help_text="the case that created it")
    secret = models.CharField(max_length=100)
    #: the secret before the last rotation, still signed with until ``previous_until``
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    #: a retry is scheduled for then: new events wait behind it (event order)
    retry_at = models.DateTimeField(null=True, blank=True)
    #: events before this one are not for it (it did not exist then)
    from_event = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    @override
    def __str__(self) -> str:
        return f"webhook {self.pk} {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription; delivered in event order, retried with back-off."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["webhook_id", "event_id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="notify_webhook_once"),
        ]

    @override
    def __str__(self) -> str:
        return f"event {self.event_id} to webhook {self.webhook_id}"
