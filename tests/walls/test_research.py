"""Research publication (#17): four eyes, the fact-check version, a crossed analyst is private
side, quiet periods around an underwriting the house leads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.walls.models import WallCrossing
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, open_project


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
