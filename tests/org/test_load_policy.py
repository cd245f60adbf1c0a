"""Loading a policy into the database: one transaction, history kept, every change audited."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from backoffice.audit.models import AuditEvent
from backoffice.core.errors import DomainError
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.org.models import Membership, PolicyVersion, Profile, Responsibility, Unit
from backoffice.org.queries import get_domain_organisation, get_organisation
from backoffice.org.services import SeparationViolated, apply_policy, do_load_policy
from tests.conftest import DEMO_POLICY, EXAMPLES

pytestmark = pytest.mark.django_db

User = get_user_model()
TODAY = date(2026, 11, 26)


def load(text: str, today: date = TODAY) -> object:
    """Apply a policy as a released policy-change case would (the effect's own path)."""
    return apply_policy(text.encode(), "p.yaml", actor="test", today=today)


def test_demo_bank_loads_with_its_whole_organisation(demo_bank: object) -> None:
    assert Unit.objects.count() == 24  # with #17's two desks and trade control
    assert Profile.objects.count() == 33  # with #8's second people, #17's trading floor
    assert Unit.objects.get(key="credit-analysis").parent.key == "back-office"
    assert Unit.objects.get(key="credit-analysis").line == "back_office"  # inherited
    weber = Profile.objects.get(user__username="max.weber")
    assert (weber.competence_amount, weber.competence_currency) == (50_000_000, "EUR")
    assert set(
        Responsibility.objects.filter(user__username="thomas.klein").values_list(
            "unit__key", flat=True
        )
    ) == {"risk-control", "compliance", "internal-audit"}
    assert get_organisation().violations == []


def test_demo_people_cannot_log_in_until_given_a_password(demo_bank: object) -> None:
    assert not User.objects.get(username="anna.schmidt").has_usable_password()


def test_loading_the_same_policy_twice_changes_nothing(demo_bank: object) -> None:
    events = AuditEvent.objects.count()
    again = do_load_policy(DEMO_POLICY.read_bytes(), str(DEMO_POLICY), actor="test")
    assert again.version is None and again.changes == []
    assert AuditEvent.objects.count() == events
    assert PolicyVersion.objects.count() == 1


def test_every_change_has_its_audit_event_and_the_chain_links(demo_bank: object) -> None:
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False)
    )
    actions = {e.action for e in events}
    assert {
        "org.unit.created",
        "org.person.created",
        "org.membership.created",
        "org.responsibility.created",
        "policy.loaded",
    } <= actions
    created = AuditEvent.objects.get(action="org.unit.created", object_id="risk-control")
    assert created.after["line"] == "risk_control" and created.actor == "test:setup"


BASE = """\
version: 1
institution: {name: Test Bank}
units:
  - {id: board, name: Board, line: management}
  - {id: market, name: Market, line: market, parent: board}
  - {id: back-office, name: Back Office, line: back_office, parent: board}
people:
  - {id: max, name: Max}
  - {id: sabine, name: Sabine}
  - {id: anna, name: Anna, competence: {amount: 250000, currency: EUR}}
memberships:
  - {person: max, unit: board, role: head, valid_from: 2020-01-01}
  - {person: sabine, unit: board, valid_from: 2020-01-01}
  - {person: anna, unit: market, valid_from: 2021-01-01}
responsibilities:
  - {person: max, units: [market], valid_from: 2020-01-01}
  - {person: sabine, units: [back-office], valid_from: 2020-01-01}
"""


def test_a_membership_that_disappears_is_ended_not_deleted() -> None:
    load(BASE)
    moved = BASE.replace(
        "  - {person: anna, unit: market, valid_from: 2021-01-01}",
        "  - {person: anna, unit: market, valid_from: 2021-01-01, valid_to: 2026-11-26}\n"
        "  - {person: anna, unit: back-office, valid_from: 2026-11-26}",
    )
    load(moved)
    rows = {
        (m.unit.key, m.valid_from, m.valid_to)
        for m in Membership.objects.filter(user__username="anna")
    }
    assert rows == {
        ("market", date(2021, 1, 1), date(2026, 11, 26)),
        ("back-office", date(2026, 11, 26), None),
    }
    removed = moved.replace("  - {person: anna, unit: back-office, valid_from: 2026-11-26}\n", "")
    load(removed, today=date(2027, 3, 1))
    ended = Membership.objects.get(user__username="anna", unit__key="back-office")
    assert ended.valid_to == date(2027, 3, 1)
    assert AuditEvent.objects.filter(action="org.membership.ended").count() == 1
    # loading it again leaves the history as it is
    assert load(removed, today=date(2027, 3, 2)).changes == []  # type: ignore[attr-defined]


def test_a_person_who_disappears_is_deactivated_and_a_unit_retired() -> None:
    load(BASE)
    smaller = BASE.replace(
        "  - {id: anna, name: Anna, competence: {amount: 250000, currency: EUR}}\n", ""
    )
    smaller = smaller.replace("  - {person: anna, unit: market, valid_from: 2021-01-01}\n", "")
    smaller = smaller.replace(
        "  - {id: back-office, name: Back Office, line: back_office, parent: board}\n", ""
    )
    smaller = smaller.replace(
        "  - {person: sabine, units: [back-office], valid_from: 2020-01-01}\n", ""
    )
    load(smaller)
    anna = User.objects.get(username="anna")
    assert not anna.is_active
    assert Unit.objects.get(key="back-office").retired_at is not None
    assert Membership.objects.filter(user=anna).exists()
    assert "back-office" not in get_domain_organisation().units


def test_changes_are_recorded_with_before_and_after() -> None:
    load(BASE)
    load(
        BASE.replace(
            "competence: {amount: 250000, currency: EUR}",
            "competence: {amount: 500000, currency: EUR}",
        )
    )
    event = AuditEvent.objects.get(action="org.person.changed", object_id="anna")
    assert event.before["competence"] == {"amount": "250000.00", "currency": "EUR"}
    assert event.after["competence"] == {"amount": "500000.00", "currency": "EUR"}
    assert PolicyVersion.objects.count() == 2


def test_a_policy_breaking_separation_writes_nothing(demo_bank: object) -> None:
    before = (AuditEvent.objects.count(), Unit.objects.count(), PolicyVersion.objects.count())
    broken = EXAMPLES / "market-under-back-office.yaml"
    with pytest.raises(SeparationViolated) as caught:
        do_load_policy(broken.read_bytes(), str(broken), actor="test")
    assert caught.value.violations[0].rule == "ORG-1"
    assert (
        AuditEvent.objects.count(),
        Unit.objects.count(),
        PolicyVersion.objects.count(),
    ) == before


def test_an_invalid_policy_writes_nothing() -> None:
    with pytest.raises(PolicyInvalid):
        load(BASE.replace("{id: max, name: Max}", "{id: max}"))
    assert not Unit.objects.exists() and not AuditEvent.objects.exists()


def test_the_database_refuses_a_membership_ending_before_it_starts(demo_bank: object) -> None:
    anna = User.objects.get(username="anna.schmidt")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=anna,
            unit=Unit.objects.get(key="retail"),
            valid_from=date(2025, 1, 2),
            valid_to=date(2025, 1, 1),
        )


@pytest.mark.django_db(transaction=True)
def test_audit_events_are_only_written_inside_a_transaction() -> None:
    from backoffice.audit.services import record

    with pytest.raises(RuntimeError, match="inside the transaction"):
        record("x", actor="t", object_type="t", object_id=1)


def test_roles_and_assignments_load_with_their_hierarchy(demo_bank: object) -> None:
    from backoffice.access.queries import get_permissions, get_roles

    anna = User.objects.get(username="anna.schmidt")
    assert {"credit-officer", "payment-clerk", "employee"} <= get_roles(anna, TODAY)
    assert {"payment.enter", "case.start"} <= get_permissions(anna, TODAY)
    jonas = User.objects.get(username="jonas.fischer")
    assert "credit-analyst" in get_roles(jonas, TODAY)
    assert "credit-officer" not in get_roles(jonas, TODAY)
    assert "credit-officer" in get_roles(jonas, date(2026, 9, 30))
    # one audit event per assignment of the demo policy (#5 added the credit levels)
    assignments = parse_policy(DEMO_POLICY.read_bytes(), "demo").policy.assignments
    assert AuditEvent.objects.filter(action="access.assignment.created").count() == len(assignments)


def test_once_a_policy_is_live_a_different_one_needs_four_eyes(demo_bank: object) -> None:
    changed = DEMO_POLICY.read_text().replace("name: Musterbank AG", "name: Musterbank AG (new)")
    with pytest.raises(DomainError) as caught:
        do_load_policy(changed.encode(), "changed.yaml", actor="cli:root")
    assert caught.value.code == "policy.four_eyes_required"
    assert PolicyVersion.objects.count() == 1


def test_a_derived_field_needs_an_effect_that_derives_it() -> None:
    """Otherwise every case of the process would fail for a field nobody can fill in."""
    from backoffice.org.services import validate_policy

    text = DEMO_POLICY.read_bytes().replace(
        b"{name: control, type: string, label: {en: Control id, de: Kontroll-ID},",
        b"{name: control, type: string, derived: true, label: Control id,",
    )
    with pytest.raises(PolicyInvalid) as caught:
        validate_policy(text, "derived.yaml")
    assert "field 'control' is derived, but 'access.mitigate' derives nothing" in str(caught.value)


def test_an_approved_deployment_is_stored_and_the_organisation_stays_compliant(
    demo_bank: object, login: Any
) -> None:
    """ORG-3: the exception travels with the membership, so the live checks agree."""
    lukas = b"  - {person: lukas.becker, unit: corporate-clients, valid_from: 2022-03-01}\n"
    deployed = DEMO_POLICY.read_bytes().replace(
        lukas,
        lukas + b"  - {person: lukas.becker, unit: credit-analysis, valid_from: 2026-01-01, "
        b"valid_to: 2026-04-01, exception: {reason: Backlog, approved_by: sabine.roth}}\n",
        1,
    )
    apply_policy(deployed, "deployed.yaml", actor="test")
    row = Membership.objects.get(user__username="lukas.becker", unit__key="credit-analysis")
    assert row.exception == "Backlog (approved by sabine.roth)"
    assert get_organisation(date(2026, 2, 1)).violations == []
    page = login("martin.jung").get("/organisation/").content.decode()
    assert "ORG-3 deployment" in page and "Backlog (approved by sabine.roth)" in page
