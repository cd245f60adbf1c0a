"""Research publication (#17): four eyes, the fact-check version, a crossed analyst is private
side, quiet periods around an underwriting the house leads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.walls.models import DealProject, WallCrossing
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, open_project, released


def note(issuer: str = "nordbank", **extra: Any) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "headline": "Capital strong",
        "rating": "buy",
        "summary": "Solid capital, growing fees.",
        **extra,
    }


def test_a_crossed_analyst_may_not_draft_release_or_publish_on_that_issuer(
    person: People,
) -> None:
    lisa, tim = person("lisa.neumann"), person("tim.hartmann")
    drafted = tim.start("research-publication", note()).json()
    assert drafted["status"] == "submitted"
    open_project(person)
    cross(person, "lisa.neumann")  # Lisa is brought over the wall for Nordbank

    problem(lisa.start("research-publication", note()), 403, "research.private_side")
    problem(lisa.act(drafted["id"], "release"), 403, "research.private_side")
    assert Case.objects.get(pk=drafted["id"]).status == "submitted"
    other = lisa.start("research-publication", note("autowerk")).json()
    assert other["status"] == "submitted"  # other issuers are not affected
    assert AuditEvent.objects.filter(
        action="case.start_denied", actor="lisa.neumann", after__code="research.private_side"
    ).exists()

    # the crossing ends: the quiet period of the policy still keeps her out
    crossing = WallCrossing.objects.get(user__username="lisa.neumann")
    ended = person("clara.vogel").post(
        f"/walls/crossings/{crossing.pk}/end", {"reason": "valuation done"}
    )
    assert ended.status_code == 200, ended.content
    problem(lisa.start("research-publication", note()), 403, "research.private_side")
    # ... until it is over
    WallCrossing.objects.filter(pk=crossing.pk).update(
        ended_at=timezone.now() - timedelta(days=11), valid_from=timezone.now() - timedelta(days=20)
    )
    again = lisa.start("research-publication", note()).json()
    assert again["status"] == "submitted"


def test_a_crossed_analysts_note_is_not_published_by_someone_else(person: People) -> None:
    """Distribution: the maker crossed after drafting; the release would publish their work."""
    lisa = person("lisa.neumann")
    drafted = lisa.start("research-publication", note()).json()
    open_project(person)
    cross(person, "lisa.neumann")
    problem(person("tim.hartmann").act(drafted["id"], "release"), 403, "research.private_side")


def test_another_analyst_or_the_head_releases_never_the_author(person: People) -> None:
    lisa, tim = person("lisa.neumann"), person("tim.hartmann")
    mine = lisa.start("research-publication", note("hansebank")).json()
    problem(lisa.act(mine["id"], "release"), 403, "sod.self_approval")
    assert released(tim.start("research-publication", note("autowerk")), lisa)  # an analyst
    assert released(lisa.start("research-publication", note("motorenbau")), tim)  # the head
    problem(  # outside research nobody releases it
        person("niklas.wolf").act(mine["id"], "release"), 404, "case.not_found"
    )


def test_the_issuer_gets_only_the_version_without_rating_target_and_valuation(
    person: People,
) -> None:
    lisa, tim = person("lisa.neumann"), person("tim.hartmann")
    extra = {"price_target": "EUR 42.50", "valuation": "DCF, WACC 9 %"}
    drafted = lisa.start("research-publication", note("hansebank", **extra)).json()
    sent = lisa.post(f"/walls/research/{drafted['id']}/fact-check", {})
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert (body["headline"], body["body"]) == ("Capital strong", "Solid capital, growing fees.")
    assert not {"rating", "price_target", "valuation"} & set(body)
    assert "42.50" not in str(body) and "buy" not in str(body).lower()
    assert [f["id"] for f in tim.get(f"/walls/research/{drafted['id']}/fact-checks").json()] == [
        body["id"]
    ]
    event = AuditEvent.objects.get(action="research.fact_check.sent")
    assert event.after["fields"] == ["headline", "issuer", "summary"]

    # a text that still gives the view away is not sent
    leaky = note("rheinbank", summary="We set a target of EUR 42.50.", price_target="EUR 42.50")
    leak = lisa.start("research-publication", leaky).json()
    problem(
        lisa.post(f"/walls/research/{leak['id']}/fact-check", {}), 403, "research.fact_check_leak"
    )
    rated = lisa.start("research-publication", note("autowerk", summary="Our buy rating stays."))
    problem(
        lisa.post(f"/walls/research/{rated.json()['id']}/fact-check", {}),
        403,
        "research.fact_check_leak",
    )
    assert AuditEvent.objects.filter(action="research.denied").count() == 2  # the leaks
    # nobody outside research sends it, and a published note is no draft any more
    problem(
        person("niklas.wolf").post(f"/walls/research/{drafted['id']}/fact-check", {}),
        404,
        "case.not_found",
    )
    compliance = person("clara.vogel")  # reads behind the wall, but does not send research
    problem(
        compliance.post(f"/walls/research/{drafted['id']}/fact-check", {}), 403, "wall.forbidden"
    )
    published = released(lisa.start("research-publication", note("motorenbau")), tim)
    gone = lisa.post(f"/walls/research/{published['id']}/fact-check", {})
    problem(gone, 404, "research.not_found")


def test_a_public_underwriting_the_house_leads_is_a_quiet_period(person: People) -> None:
    lisa, clara = person("lisa.neumann"), person("clara.vogel")
    open_project(person)  # confidential: research goes on (the watch list restricts nothing)
    assert lisa.start("research-publication", note()).json()["status"] == "submitted"
    clara.post("/walls/projects/project-falcon/announce", {"reason": "offer launched"})
    lift = clara.start("restricted-list-lift", {"issuer": "nordbank", "reason": "stabilised"})
    released(lift, person("paula.schwarz"))  # off the restricted list, still quiet
    problem(lisa.start("research-publication", note()), 403, "research.quiet_period")
    clara.post("/walls/projects/project-falcon/close", {"reason": "deal done"})
    problem(lisa.start("research-publication", note()), 403, "research.quiet_period")
    DealProject.objects.filter(key="project-falcon").update(
        closed_at=timezone.now() - timedelta(days=11)
    )
    assert lisa.start("research-publication", note()).json()["status"] == "submitted"
