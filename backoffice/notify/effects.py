"""#18 ``notify.webhook``: a released ``webhook-subscription`` case creates the subscription.

A webhook carries data out of the bank, so one administrator proposes it and a second
releases it (the four-eyes engine). It receives no more than its subscriber may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db.models import Max

from backoffice.base.effects import EffectProblem
from backoffice.core.notify import new_secret
from backoffice.notify.models import OutboxEvent, Webhook

__all__ = ["CreateWebhook", "event_types"]


def event_types(text: str) -> list[str]:
    return sorted({t.strip() for t in text.replace(";", ",").split(",") if t.strip()})


class CreateWebhook:
    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        from backoffice.notify.services import EVENT_TYPES

        url = urlsplit(str(payload.get("url") or ""))
        if url.scheme not in {"https", "http"} or not url.hostname:
            return EffectProblem(
                "input.webhook_url",
                "Give an http(s) address.",
                [{"field": "url", "message": "an http(s) URL"}],
            )
        unknown = [
            t
            for t in event_types(str(payload.get("events") or ""))
            if t not in EVENT_TYPES and t != "*"
        ]
        if unknown or not event_types(str(payload.get("events") or "")):
            return EffectProblem(
                "input.webhook_events",
                f"Unknown event types: {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(EVENT_TYPES)}.",
                [{"field": "events", "message": "known event types, comma separated"}],
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "webhook",
            "url": payload.get("url"),
            "events": event_types(str(payload.get("events") or "")),
            "subscriber": payload.get("subscriber"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        subscriber = get_user_model().objects.get(username=case.payload["subscriber"])
        latest = OutboxEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        webhook = Webhook.objects.create(
            url=case.payload["url"],
            types=event_types(str(case.payload["events"])),
            subscriber=subscriber,
            case_id=case.pk,
            secret=new_secret(),
            from_event=latest,
        )
        return {"webhook": webhook.pk, "url": webhook.url, "events": webhook.types}
