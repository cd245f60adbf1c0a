"""#18: mail to the people a case waits for, reminders, escalations, digests, over SMTP."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from backoffice.cases.models import Case
from backoffice.notify.models import MailDelivery
from backoffice.notify.services import line_managers, people_waited_for
from tests.cases.conftest import payment
from tests.notify.conftest import come_due, run_worker


def _submitted(person: Any, amount: str = "2500.00") -> Case:
    response = person("anna.schmidt").start("payment-release", payment(amount))
    assert response.status_code == 201, response.content
    return Case.objects.get(pk=response.json()["id"])


def test_a_waiting_case_mails_each_person_it_waits_for_once(person: Any, smtp: Any) -> None:
    case = _submitted(person)
    waiting = people_waited_for(case)
    assert waiting and "anna.schmidt" not in {u.username for u in waiting}  # never the maker
    run_worker()
    assert smtp.recipients() == sorted(u.email for u in waiting)
    mail = smtp.to(waiting[0].email)[0]
    body = mail.get_body().get_content()
    assert f"/cases/{case.pk}/" in body
    assert "/settings/notifications/" in body  # the unsubscribe link
    assert "/settings/notifications/" in mail["List-Unsubscribe"]
    run_worker()  # again: nothing new
    assert len(smtp.messages) == len(waiting)


def test_no_mail_to_who_unsubscribed_and_a_digest_for_who_prefers_one(
    person: Any, smtp: Any, login: Any
) -> None:
    users = get_user_model().objects
    lena, maria = users.get(username="lena.schulz"), users.get(username="maria.keller")
    assert (
        login("lena.schulz").post("/settings/notifications/", {"mode": "digest"}).status_code == 302
    )
    assert (
        login("maria.keller").post("/settings/notifications/", {"mode": "none"}).status_code == 302
    )
    case = _submitted(person)
    run_worker()
    assert smtp.to(lena.email) == [] and smtp.to(maria.email) == []
    come_due("digest")
    run_worker()
    digests = smtp.to(lena.email)
    assert len(digests) == 1 and f"/cases/{case.pk}/" in digests[0].get_body().get_content()
    assert smtp.to(maria.email) == []
    come_due("digest")  # tomorrow's: nothing new waited
    run_worker()
    assert len(smtp.to(lena.email)) == 1


def test_a_reminder_after_the_sla_then_the_line_manager(person: Any, smtp: Any) -> None:
    case = _submitted(person)
    run_worker()
    first = len(smtp.messages)
    waiting = people_waited_for(case)
    assert come_due("remind") == 1
    run_worker()
    reminders = [
        (r, m) for r, m in smtp.messages[first:] if m["X-Backoffice-Key"].startswith("reminder:")
    ]
    assert sorted(r for r, _ in reminders) == sorted(u.email for u in waiting)
    managers = {m.email for u in waiting for m in line_managers(u, case.created.date())}
    assert managers
    assert come_due("escalate") == 1
    run_worker()
    escalations = [r for r, m in smtp.messages if m["X-Backoffice-Key"].startswith("escalation:")]
    assert sorted(escalations) == sorted(managers - {"anna.schmidt@musterbank.example"})


def test_no_reminder_once_the_case_was_acted_on(person: Any, smtp: Any) -> None:
    case = _submitted(person)
    run_worker()
    assert person("lena.schulz").act(case.pk, "release").status_code == 200
    before = len(smtp.messages)
    come_due("remind")
    come_due("escalate")
    run_worker()
    assert not [
        m for _, m in smtp.messages[before:] if m["X-Backoffice-Key"].startswith("reminder:")
    ]


def test_a_mail_the_server_refused_goes_out_on_a_later_try(
    person: Any, smtp: Any, settings: Any
) -> None:
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    _submitted(person)
    run_worker()
    assert smtp.messages == []
    failed = MailDelivery.objects.filter(sent_at__isnull=True)
    assert failed.exists() and all(d.attempts == 1 for d in failed)
    settings.EMAIL_PORT = port
    come_due("send_mail")
    run_worker()
    assert len(smtp.messages) == MailDelivery.objects.count()
    assert not MailDelivery.objects.filter(sent_at__isnull=True).exists()


def test_a_walled_case_reaches_no_one_outside_the_wall_by_mail(person: Any, smtp: Any) -> None:
    """The mandate waits for compliance, who get its title; a mail about it to someone
    outside the wall (an escalation to a manager, say) names neither project nor link."""
    from backoffice.notify.services import render_mail
    from tests.walls.conftest import mandate_payload

    response = person("laura.lange").start("deal-mandate", mandate_payload("nordbank", "Kestrel"))
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    run_worker()
    waiting = people_waited_for(case)
    assert waiting and all("Kestrel" in m.get_body().get_content() for _, m in smtp.messages)
    assert {r for r, _ in smtp.messages} == {u.email for u in waiting}
    tim = get_user_model().objects.get(username="tim.hartmann")  # research: outside the wall
    outside = MailDelivery.objects.create(
        user=tim, key="escalation:x", kind="escalation", case_id=case.pk
    )
    body = render_mail(outside).body
    assert "Kestrel" not in body and f"/cases/{case.pk}/" not in body


def test_each_person_gets_the_mail_in_their_language(person: Any, smtp: Any) -> None:
    _submitted(person)
    run_worker()
    language = {
        u.email: u.profile.language for u in get_user_model().objects.select_related("profile")
    }
    subjects = {r: m["Subject"] for r, m in smtp.messages}
    assert {language[r] for r in subjects} == {"de", "en"}  # the releasers read both
    for address, subject in subjects.items():
        assert subject.startswith("Vorgang" if language[address] == "de" else "Case"), subject
