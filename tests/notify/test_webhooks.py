"""#18: webhooks per Standard Webhooks, to a real HTTP receiver started by the test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.core import notify as rules
from backoffice.notify.models import MailDelivery, Webhook, WebhookDelivery
from backoffice.notify.services import do_rotate_secret
from tests.cases.conftest import payment
from tests.notify.conftest import come_due, run_worker


def subscribe(person: Any, url: str, events: str, subscriber: str = "lena.schulz") -> Webhook:
    """One administrator proposes, a second releases: a webhook carries data out."""
    oliver = person("oliver.richter")
    body = {"url": url, "events": events, "subscriber": subscriber, "reason": "payment hub"}
    started = oliver.start("webhook-subscription", body)
    assert started.status_code == 201, started.content
    case_id = started.json()["id"]
    assert oliver.act(case_id, "release").status_code == 403  # never the maker
    assert not Webhook.objects.exists()
    assert person("hanna.schroeder").act(case_id, "release").status_code == 200
    return Webhook.objects.get(case_id=case_id)


def _pay_and_release(person: Any, amount: str = "2500.00") -> int:
    case_id = int(person("anna.schmidt").start("payment-release", payment(amount)).json()["id"])
    assert person("lena.schulz").act(case_id, "release").status_code == 200
    return case_id


def test_signed_events_arrive_in_order(person: Any, receiver: Any) -> None:
    hook = subscribe(person, receiver.url, "case.submitted,case.released")
    first, second = _pay_and_release(person), _pay_and_release(person, "300.00")
    run_worker()
    got = [(b["type"], b["data"]["case"]) for b in receiver.bodies()]
    assert got == [
        ("case.submitted", first),
        ("case.released", first),
        ("case.submitted", second),
        ("case.released", second),
    ]
    for headers, body in receiver.requests:
        assert rules.verify(hook.secret, headers, body, timezone.now())
        assert not rules.verify(rules.new_secret(), headers, body, timezone.now())
        assert not rules.verify(hook.secret, headers, body + b" ", timezone.now())
    ids = [h["webhook-id"] for h, _ in receiver.requests]
    assert len(set(ids)) == 4
    run_worker()
    assert len(receiver.requests) == 4  # delivered once


def test_a_failed_delivery_is_retried_with_back_off_and_keeps_the_order(
    person: Any, receiver: Any
) -> None:
    subscribe(person, receiver.url, "case.released")
    receiver.fail = 2
    first, second = _pay_and_release(person), _pay_and_release(person, "400.00")
    run_worker()
    assert receiver.requests == []  # the first failed; the second waits behind it
    assert WebhookDelivery.objects.get(event__case_id=first).attempts == 1
    assert come_due("push_webhook") >= 1
    run_worker()
    come_due("push_webhook")
    run_worker()
    assert [b["data"]["case"] for b in receiver.bodies()] == [first, second]
    assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == 0


def test_repeated_failure_disables_the_subscription_with_an_alert(
    person: Any, receiver: Any, smtp: Any
) -> None:
    hook = subscribe(person, receiver.url, "case.released")
    receiver.fail = 1000
    _pay_and_release(person)
    run_worker()
    for _ in range(rules.MAX_ATTEMPTS):
        come_due("push_webhook")
        run_worker()
    hook.refresh_from_db()
    assert not hook.active and "failed" in hook.disabled_reason
    assert AuditEvent.objects.filter(
        action="notify.webhook.disabled", object_id=str(hook.pk)
    ).exists()
    alerted = set(
        MailDelivery.objects.filter(kind="alert").values_list("user__username", flat=True)
    )
    assert alerted == {"oliver.richter", "hanna.schroeder"}
    assert {
        r for r, m in smtp.messages if m["X-Backoffice-Key"].startswith("webhook-disabled:")
    } == set(MailDelivery.objects.filter(kind="alert").values_list("user__email", flat=True))


def test_a_rotated_secret_signs_beside_the_old_one_for_a_while(person: Any, receiver: Any) -> None:
    hook = subscribe(person, receiver.url, "case.released")
    old = hook.secret
    new = do_rotate_secret("cli:test", hook.pk, overlap=timedelta(hours=1))
    assert new != old
    _pay_and_release(person)
    run_worker()
    ((headers, body),) = receiver.requests
    assert len(headers["webhook-signature"].split()) == 2
    assert rules.verify(new, headers, body, timezone.now())
    assert rules.verify(old, headers, body, timezone.now())
    Webhook.objects.filter(pk=hook.pk).update(previous_until=timezone.now())
    _pay_and_release(person, "700.00")
    run_worker()
    headers, body = receiver.requests[-1]
    assert rules.verify(new, headers, body, timezone.now())
    assert not rules.verify(old, headers, body, timezone.now())


def test_a_subscriber_learns_nothing_of_cases_it_may_not_see(person: Any, receiver: Any) -> None:
    """jan.schmitt (an employee) may not read payment cases: his subscription gets none."""
    subscribe(person, receiver.url, "*", subscriber="jan.schmitt")
    _pay_and_release(person)
    run_worker()
    assert receiver.requests == []


def test_an_unknown_event_type_is_refused_at_the_start(person: Any) -> None:
    body = {
        "url": "https://hub.example/x",
        "events": "case.exploded",
        "subscriber": "lena.schulz",
        "reason": "x",
    }
    response = person("oliver.richter").start("webhook-subscription", body)
    assert response.status_code == 422
    assert "case.exploded" in response.json()["detail"]


def test_the_operator_reads_and_rotates_the_secret_from_the_shell(
    person: Any, receiver: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    hook = subscribe(person, receiver.url, "case.released")
    out = StringIO()
    call_command("webhook", "secret", str(hook.pk), stdout=out)
    assert out.getvalue().strip() == hook.secret
    out = StringIO()
    call_command("webhook", "rotate", str(hook.pk), stdout=out)
    hook.refresh_from_db()
    assert out.getvalue().strip() == hook.secret and hook.previous_secret
    assert AuditEvent.objects.filter(action="notify.webhook.secret_rotated").exists()
