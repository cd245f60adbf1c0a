"""#15 recertification in the browser: a reviewer's list and decision, compliance's start
and completion pages, the start page's tile, the manager's inbox, German for every string."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import polib
import pytest
from django.test import Client

from backoffice.access.models import ReviewItem
from backoffice.access.services import do_start_review
from tests.access.test_recert import TODAY, item_of, paul_reads_research

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).parents[2] / "backoffice" / "access" / "templates" / "access"
CATALOGUE = Path(__file__).parents[2] / "backoffice" / "locale" / "de" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def overdue(demo_bank: Any) -> None:
    """Paul Meyer's research role under review since 40 days, due 10 days ago."""
    paul_reads_research()
    do_start_review("cli:test", day=TODAY - timedelta(days=40))


def test_the_reviewer_sees_and_decides_their_items(overdue: None, login: Any) -> None:
    lena: Client = login("lena.schulz")
    page = lena.get("/access/reviews/?status=overdue")
    assert page.status_code == 200
    body = page.content.decode()
    assert "paul.meyer" in body and "research-analyst" in body
    item = item_of("paul.meyer", "research-analyst")
    done = lena.post(f"/access/reviews/{item.pk}/decide/", {"decision": "keep"}, follow=True)
    assert done.status_code == 200
    item.refresh_from_db()
    assert item.status == "kept"


def test_a_revoke_without_reason_is_refused_on_the_page(overdue: None, login: Any) -> None:
    lena: Client = login("lena.schulz")
    item = item_of("paul.meyer", "research-analyst")
    answer = lena.post(f"/access/reviews/{item.pk}/decide/", {"decision": "revoke"}, follow=True)
    assert "A revoke needs a reason." in answer.content.decode()
    item.refresh_from_db()
    assert item.status == "open"


def test_someone_else_cannot_decide_or_see_everyone(overdue: None, login: Any) -> None:
    paul: Client = login("paul.meyer")
    item = item_of("paul.meyer", "research-analyst")
    assert paul.post(f"/access/reviews/{item.pk}/decide/", {"decision": "keep"}).status_code == 403
    assert paul.get("/access/reviews/?scope=all").status_code == 403
    assert paul.post("/access/reviews/start/").status_code == 403


def test_compliance_starts_a_campaign_and_reads_completion(demo_bank: Any, login: Any) -> None:
    clara: Client = login("clara.vogel")
    started = clara.post("/access/reviews/start/", follow=True)
    assert started.status_code == 200
    assert ReviewItem.objects.exists()
    summary = clara.get("/access/reviews/summary/")
    assert summary.status_code == 200
    assert 'id="by-reviewer"' in summary.content.decode()


def test_the_manager_sees_overdue_reviews_on_the_start_page_and_in_the_inbox(
    overdue: None, login: Any
) -> None:
    lena: Client = login("lena.schulz")
    home = lena.get("/").content.decode()
    assert re.search(
        r'class="tile attention" href="/access/reviews/\?scope=mine&amp;status=overdue"', home
    )
    inbox = lena.get("/inbox/").content.decode()
    assert 'id="overdue-reviews"' in inbox and "paul.meyer" in inbox
    assert 'id="reviews-waiting"' in inbox  # she is also the reviewer
    # the holder himself sees nothing of it
    paul = login("paul.meyer").get("/inbox/").content.decode()
    assert 'id="overdue-reviews"' not in paul and 'id="reviews-waiting"' not in paul


def test_every_string_of_the_pages_has_german() -> None:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        if template.name.startswith(("review", "_completion")):
            text = template.read_text(encoding="utf-8")
            found |= set(re.findall(r'{% translate "([^"]+)"', text))
            for inner in re.findall(
                r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, re.S
            ):
                found.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", inner))
    assert len(found) > 20
    german = {e.msgid for e in polib.pofile(str(CATALOGUE)).translated_entries()}
    assert sorted(found - german) == []
