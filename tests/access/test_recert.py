"""Recertification campaigns (RECERT-1, RECERT-2, #15): who is due, who reviews, keep and
revoke (through a released case), overdue and suspension, rubber-stamp flags, the audit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import ReviewItem, Role, RoleAssignment
from backoffice.access.queries import get_permissions, get_roles
from backoffice.access.services import (
    do_decide_review,
    do_start_review,
    get_review_report,
    get_review_summary,
)
from backoffice.audit.models import AuditEvent
from backoffice.base.actor import Actor
from backoffice.cases.models import Delegation
from backoffice.core.errors import DomainError
from backoffice.org.services import apply_policy
from tests.cases.conftest import Person
from tests.conftest import DEMO_POLICY
from tests.support import api_pages

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def actor(username: str, day: date | None = None) -> Actor:
    return Actor(get_user_model().objects.get(username=username), today=day)


def months_ago(months: int) -> date:
    return TODAY - timedelta(days=round(months * 30.5))


def give(username: str, role: str, since: date) -> RoleAssignment:
    """A grant made long ago (set up directly: the test is about its review)."""
    return RoleAssignment.objects.create(
        user=get_user_model().objects.get(username=username),
        role=Role.objects.get(key=role),
        valid_from=since,
        source="test",
    )


def item_of(username: str, role: str) -> ReviewItem:
    return ReviewItem.objects.select_related("reviewer").get(
        holder__username=username, assignment__role__key=role
    )


def paul_reads_research() -> RoleAssignment:
    """Paul Meyer (loan processing, headed by Lena Schulz) has held an ``other`` role for
    40 months: due, and Lena holds no such role herself."""
    return give("paul.meyer", "research-analyst", months_ago(40))


def reviewed(username: str, role: str) -> bool:
    return ReviewItem.objects.filter(holder__username=username, assignment__role__key=role).exists()


def test_a_campaign_takes_what_is_due_by_class_and_dora_flag(demo_bank: Any) -> None:
    give("paul.meyer", "payment-releaser", months_ago(7))  # material, critical function: 6
    give("paul.meyer", "master-data-releaser", months_ago(7))  # material: 12
    give("paul.meyer", "auditor", months_ago(7))  # privileged: 6
    give("paul.meyer", "research-analyst", months_ago(30))  # other: 36
    give("hanna.schroeder", "research-analyst", months_ago(37))
    started = do_start_review(actor("clara.vogel"))
    assert started.items > 0
    assert reviewed("paul.meyer", "payment-releaser")
    assert reviewed("paul.meyer", "auditor")
    assert reviewed("hanna.schroeder", "research-analyst")
    assert not reviewed("paul.meyer", "master-data-releaser")
    assert not reviewed("paul.meyer", "research-analyst")
    releaser = item_of("paul.meyer", "payment-releaser")
    assert (releaser.criticality, releaser.critical_function) == ("material", True)
    assert item_of("paul.meyer", "auditor").criticality == "privileged"
    assert releaser.due == TODAY + timedelta(days=30)
    # what is under review is not taken again by the next campaign
    assert do_start_review("cli:test").items == 0


def test_the_reviewer_is_the_line_manager_never_the_holder(demo_bank: Any) -> None:
    paul_reads_research()
    do_start_review("cli:test")
    items = ReviewItem.objects.select_related("holder", "reviewer", "assignment__role")
    assert items.exists()
    for item in items:
        assert item.reviewer_id != item.holder_id
        # RECERT-1: nor someone who holds the same role
        assert not RoleAssignment.objects.filter(
            user=item.reviewer, role=item.assignment.role, valid_to__isnull=True
        ).exists(), item
    assert item_of("paul.meyer", "research-analyst").reviewer.username == "lena.schulz"
    # the head of a unit is reviewed by the board member answering for it
    assert item_of("lena.schulz", "payment-releaser").reviewer.username == "sabine.roth"


def test_nobody_reviews_someone_they_are_delegated_with(demo_bank: Any) -> None:
    paul_reads_research()
    users = get_user_model().objects.in_bulk(["paul.meyer", "lena.schulz"], field_name="username")
    Delegation.objects.create(
        principal=users["lena.schulz"],
        substitute=users["paul.meyer"],
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=14),
        created_by="test",
    )
    do_start_review("cli:test")
    assert item_of("paul.meyer", "research-analyst").reviewer.username == "sabine.roth"


def test_only_compliance_starts_a_campaign_and_a_refusal_is_recorded(demo_bank: Any) -> None:
    with pytest.raises(DomainError) as refused:
        do_start_review(actor("paul.meyer"))
    assert refused.value.code == "review.forbidden"
    assert AuditEvent.objects.filter(action="access.review.denied", actor="paul.meyer").exists()
    assert not ReviewItem.objects.exists()


def test_keep_is_on_the_audit_chain_and_certifies_until_the_next_period(demo_bank: Any) -> None:
    paul_reads_research()
    do_start_review("cli:test")
    item = item_of("paul.meyer", "research-analyst")
    do_decide_review(actor("lena.schulz"), item.pk, "keep")
    item.refresh_from_db()
    assert item.status == "kept"
    event = AuditEvent.objects.get(action="access.review.kept", object_id=str(item.pk))
    assert event.actor == "lena.schulz"
    with pytest.raises(DomainError) as again:
        do_decide_review(actor("lena.schulz"), item.pk, "revoke", "changed my mind")
    assert again.value.code == "review.decided"
    # kept today: not due again before its class's period ends
    do_start_review("cli:test")
    assert ReviewItem.objects.filter(holder__username="paul.meyer", status="open").count() == 1


def test_only_the_reviewer_decides(demo_bank: Any) -> None:
    paul_reads_research()
    do_start_review("cli:test")
    item = item_of("paul.meyer", "research-analyst")
    for intruder in ("paul.meyer", "clara.vogel"):
        with pytest.raises(DomainError) as refused:
            do_decide_review(actor(intruder), item.pk, "keep")
        assert refused.value.code == "review.not_reviewer"
    assert AuditEvent.objects.filter(action="access.review.denied", actor="paul.meyer").exists()
    item.refresh_from_db()
    assert item.status == "open"


def test_a_delegation_made_after_the_start_bars_the_reviewer(demo_bank: Any) -> None:
    paul_reads_research()
    do_start_review("cli:test")
    item = item_of("paul.meyer", "research-analyst")
    users = get_user_model().objects.in_bulk(["paul.meyer", "lena.schulz"], field_name="username")
    Delegation.objects.create(
        principal=users["paul.meyer"],
        substitute=users["lena.schulz"],
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=3),
        created_by="test",
    )
    with pytest.raises(DomainError) as refused:
        do_decide_review(actor("lena.schulz"), item.pk, "keep")
    assert refused.value.code == "review.not_reviewer"


def test_a_revoke_needs_a_reason_and_ends_the_assignment_by_a_released_case(
    demo_bank: Any,
) -> None:
    do_start_review("cli:test")
    item = item_of("lena.schulz", "payment-releaser")
    with pytest.raises(DomainError) as no_reason:
        do_decide_review(actor("sabine.roth"), item.pk, "revoke", "  ")
    assert no_reason.value.code == "review.invalid"
    do_decide_review(actor("sabine.roth"), item.pk, "revoke", "Moved to credit analysis.")
    item.refresh_from_db()
    assert item.status == "revoked" and item.case is not None
    assert item.case.process.key == "role-revoke" and item.case.status == "submitted"
    assert item.case.maker.username == "sabine.roth"
    # still held until a second person releases the case
    assert "payment-releaser" in get_roles(item.holder)
    released = Person("anna.schmidt").act(item.case.pk, "release")
    assert released.json()["status"] == "released", released.content
    assignment = RoleAssignment.objects.get(pk=item.assignment_id)
    assert assignment.valid_to == TODAY
    assert "payment-releaser" not in get_roles(item.holder)
    assert AuditEvent.objects.filter(action="access.review.revoked").exists()
    assert AuditEvent.objects.filter(action="access.assignment.ended").exists()
    # a bootstrap grant stays ended when the policy (still listing it) is applied again
    apply_policy(
        DEMO_POLICY.read_bytes().replace(b"Musterbank AG", b"Musterbank AG.", 1),
        "again.yaml",
        actor="test",
    )
    assert RoleAssignment.objects.get(pk=item.assignment_id).valid_to == TODAY


def test_the_holder_cannot_release_the_revocation_of_their_own_role(demo_bank: Any) -> None:
    do_start_review("cli:test")
    item = item_of("anna.schmidt", "payment-clerk")
    do_decide_review(actor(item.reviewer.username), item.pk, "revoke", "Not needed.")
    item.refresh_from_db()
    assert item.case is not None
    refused = Person("anna.schmidt").act(item.case.pk, "release")
    assert refused.status_code == 403, refused.content
    assert RoleAssignment.objects.get(pk=item.assignment_id).valid_to is None


def test_overdue_items_are_reported_and_privileged_ones_suspend(demo_bank: Any) -> None:
    # a campaign started 60 days ago: due 30 days ago, suspends 15 days after that
    do_start_review("cli:test", day=TODAY - timedelta(days=60))
    admin = item_of("oliver.richter", "administrator")
    assert admin.criticality == "privileged"
    oliver = admin.holder
    assert "policy.propose" not in get_permissions(oliver)
    assert "administrator" not in get_roles(oliver)
    # compliance's own privileged role is suspended as well, until its review is done
    compliance = item_of("clara.vogel", "compliance-officer")
    with pytest.raises(DomainError):
        get_review_report(actor("clara.vogel"), "overdue")
    do_decide_review(actor(compliance.reviewer.username), compliance.pk, "keep")
    clerk = item_of("anna.schmidt", "payment-clerk")  # material: overdue, not suspended
    assert "payment.enter" in get_permissions(clerk.holder)
    overdue = list(get_review_report(actor("clara.vogel"), "overdue").all_rows())
    rows = {(r["person"], r["role"]): r for r in overdue}
    assert rows[("oliver.richter", "administrator")]["suspended"] is True
    assert rows[("anna.schmidt", "payment-clerk")]["status"] == "overdue"
    assert rows[("anna.schmidt", "payment-clerk")]["suspended"] is False
    # a day before the suspension the assignment still gives its permissions
    assert "policy.propose" in get_permissions(oliver, TODAY - timedelta(days=16))
    # kept late: the suspension is lifted at the next check
    do_decide_review(actor(admin.reviewer.username), admin.pk, "keep")
    assert "policy.propose" in get_permissions(oliver)
    assert not any(
        r["person"] == "oliver.richter" and r["role"] == "administrator"
        for r in get_review_report(actor("clara.vogel"), "overdue").all_rows()
    )


def test_the_manager_sees_the_overdue_items_of_their_people(demo_bank: Any) -> None:
    paul_reads_research()
    do_start_review("cli:test", day=TODAY - timedelta(days=60))
    mine = list(get_review_report(actor("lena.schulz"), "overdue", mine=True).all_rows())
    assert ("paul.meyer", "research-analyst") in {(r["person"], r["role"]) for r in mine}
    with pytest.raises(DomainError):
        get_review_report(actor("paul.meyer"), "overdue")


def test_rubber_stamping_is_flagged_and_completion_reported(demo_bank: Any) -> None:
    do_start_review("cli:test")
    busiest = ReviewItem.objects.values_list("reviewer__username", flat=True).order_by().annotate()
    counts: dict[str, int] = {}
    for name in busiest:
        counts[name] = counts.get(name, 0) + 1
    reviewer, total = max(counts.items(), key=lambda kv: kv[1])
    assert total > 10, counts
    who = actor(reviewer)
    for item in ReviewItem.objects.filter(reviewer__username=reviewer)[:11]:
        do_decide_review(who, item.pk, "keep")
    assert AuditEvent.objects.filter(action="access.review.rubber_stamp", actor=reviewer).exists()
    summary = get_review_summary(actor("clara.vogel"))
    assert [b["reviewer"] for b in summary["rubber_stamps"]] == [reviewer]
    by_reviewer = {r["name"]: r for r in summary["by_reviewer"]}
    assert by_reviewer[reviewer]["decided"] == 11
    assert by_reviewer[reviewer]["completion"] == round(100 * 11 / total, 1)
    assert sum(r["total"] for r in summary["by_unit"]) == ReviewItem.objects.count()
    # the same decisions spread over hours are no rubber stamp
    for n, item in enumerate(
        ReviewItem.objects.filter(reviewer__username=reviewer, decided_at__isnull=False)
    ):
        item.decided_at = timezone.now() - timedelta(minutes=10 * n)
        item.save(update_fields=["decided_at"])
    assert get_review_summary(actor("clara.vogel"))["rubber_stamps"] == []


def test_the_shell_starts_a_campaign_and_reports_overdue_items_as_csv(
    demo_bank: Any, capsys: Any
) -> None:
    from django.core.management import call_command

    paul_reads_research()
    day = (TODAY - timedelta(days=40)).isoformat()
    call_command("access", "review", "start", "--as-of", day)
    assert "review item(s)" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="access.review.started").exists()
    call_command("access", "review", "report", "--status", "overdue")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,campaign,person,role")
    assert any(",paul.meyer,research-analyst," in line and ",overdue," in line for line in lines)


@pytest.mark.parametrize(
    "argv",
    [["--as-of", "yesterday"], ["--as-of", "2026-13-01"], ["--as-of", "9999-12-31"]],
)
def test_bad_input_on_the_shell_exits_2_and_writes_nothing(
    demo_bank: Any, capsys: Any, argv: list[str]
) -> None:
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exit_code:
        call_command("access", "review", "start", *argv)
    assert exit_code.value.code == 2
    assert "--as-of" in capsys.readouterr().err
    assert not ReviewItem.objects.exists()
    with pytest.raises(SystemExit) as bad_status:
        call_command("access", "review", "report", "--status", "late")
    assert bad_status.value.code == 2
    assert "late" in capsys.readouterr().err


def test_the_api_starts_lists_overdue_as_json_and_csv_and_decides(demo_bank: Any) -> None:
    paul_reads_research()
    clara, lena, paul = Person("clara.vogel"), Person("lena.schulz"), Person("paul.meyer")
    refused = paul.post("/access/reviews", {})
    assert refused.status_code == 403, refused.content
    started = clara.post("/access/reviews", {"as_of": (TODAY - timedelta(days=40)).isoformat()})
    assert started.status_code == 201, started.content
    assert started.json()["items"] > 0
    pages = api_pages(clara.client, "/api/v1/access/reviews?status=overdue")
    overdue = [row for page in pages for row in page]
    assert {r["status"] for r in overdue} == {"overdue"}
    row = next(r for r in overdue if (r["person"], r["role"]) == ("paul.meyer", "research-analyst"))
    assert row["reviewer"] == "lena.schulz" and row["manager"] == "lena.schulz"
    csv = clara.get("/access/reviews?status=overdue&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert b"paul.meyer" in csv.getvalue()
    assert paul.get("/access/reviews?status=overdue").status_code == 403
    mine = lena.get("/access/reviews?status=overdue&mine=true").json()
    assert row["id"] in {r["id"] for r in mine}
    path = f"/access/reviews/{row['id']}/decision"
    assert paul.post(path, {"decision": "keep"}).status_code == 403
    no_reason = lena.post(path, {"decision": "revoke"})
    assert no_reason.status_code == 422, no_reason.content
    revoked = lena.post(path, {"decision": "revoke", "reason": "Not in research."})
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["status"] == "revoked" and revoked.json()["case"]
    assert lena.post(path, {"decision": "keep"}).status_code == 409
    summary = clara.get("/access/reviews/summary").json()
    assert {"lena.schulz"} <= {r["name"] for r in summary["by_reviewer"]}


def test_the_openapi_names_the_review_operations(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/access/reviews"])
    assert "post" in paths["/api/v1/access/reviews/{item_id}/decision"]
    assert "get" in paths["/api/v1/access/reviews/summary"]


def test_a_move_makes_the_persons_access_due_for_review_at_once(demo_bank: Any) -> None:
    """RECERT-1: Paul's research role is years from its period, but he moved to Settlement
    after it was granted: the next campaign reviews it, marked as made by the move."""
    from backoffice.org.models import Membership, Unit

    give("paul.meyer", "research-analyst", months_ago(3))
    give("maria.keller", "research-analyst", months_ago(3))  # did not move: not due
    moved_on = TODAY - timedelta(days=10)
    Membership.objects.filter(user__username="paul.meyer").update(valid_to=moved_on)
    Membership.objects.create(
        user=get_user_model().objects.get(username="paul.meyer"),
        unit=Unit.objects.get(key="settlement"),
        valid_from=moved_on,
    )
    do_start_review(actor("clara.vogel"))
    assert item_of("paul.meyer", "research-analyst").trigger == "transfer"
    assert not reviewed("maria.keller", "research-analyst")
    pages = api_pages(Person("clara.vogel").client, "/api/v1/access/reviews?status=open")
    rows = [row for page in pages for row in page]
    assert {"person": "paul.meyer", "role": "research-analyst", "trigger": "transfer"}.items() <= (
        next(r for r in rows if r["person"] == "paul.meyer" and r["role"] == "research-analyst")
    ).items()
