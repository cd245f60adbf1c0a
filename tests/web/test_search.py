"""#19: the global search finds cases, people, borrowers, issuers and vendors, and nothing
the person may not see: walled cases and confidential issuers stay hidden from outsiders,
borrowers are for those who work on credits, vendors for reports.read."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.base.actor import Actor
from backoffice.cases.queries import visible_cases
from backoffice.cases.services import do_start_case
from backoffice.credit.demo import seed_demo_credit
from backoffice.masterdata.models import Vendor
from backoffice.walls.seed import seed_demo_walls
from backoffice.web.queries import MAX_PER_KIND, search
from tests.cases.conftest import Person, payment


def actor(username: str) -> Actor:
    return Actor(get_user_model().objects.get(username=username))


def titles(username: str, text: str, kind: str) -> list[str]:
    return [hit.title for hit in search(actor(username), text).kinds[kind]]


def browser(username: str, language: str = "en") -> Client:
    user = get_user_model().objects.get(username=username)
    user.profile.language = language
    user.profile.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_case_is_found_by_number_and_by_title(demo_bank: Any) -> None:
    case = do_start_case(actor("anna.schmidt"), "payment-release", payment("2500.00"), submit=True)
    case = case.raise_if_denied()
    by_number = search(actor("maria.keller"), f"#{case.pk}").kinds["cases"]
    assert [h.url for h in by_number] == [f"/cases/{case.pk}/"]
    assert search(actor("maria.keller"), str(case.pk)).kinds["cases"][0].url == by_number[0].url
    assert titles("maria.keller", case.title[:6], "cases")[0] == f"#{case.pk} {case.title}"
    # the research analyst has nothing to do with payments: the case is not theirs to find
    assert titles("tim.hartmann", f"#{case.pk}", "cases") == []


def test_people_are_found_by_name_and_by_login(demo_bank: Any) -> None:
    assert titles("tim.hartmann", "Neumann", "people") == ["Lisa Neumann"]
    assert titles("tim.hartmann", "lisa.neu", "people") == ["Lisa Neumann"]
    assert search(actor("tim.hartmann"), "lisa").kinds["people"][0].detail == "lisa.neumann"


def test_borrowers_only_for_those_who_work_on_credits(demo_bank: Any) -> None:
    seed_demo_credit()
    assert titles("lukas.becker", "Weingut", "borrowers") == ["B000004 Weingut Lange KG"]
    assert titles("lukas.becker", "B000004", "borrowers") == ["B000004 Weingut Lange KG"]
    hit = search(actor("lukas.becker"), "B000004").kinds["borrowers"][0]
    assert hit.url == "/credit/borrowers/B000004/"
    # the research analyst and the administrator may not read borrowers: none found, no refusal
    assert titles("tim.hartmann", "Weingut", "borrowers") == []
    assert titles("oliver.richter", "B000004", "borrowers") == []


def test_vendors_only_for_reports_read(demo_bank: Any) -> None:
    Vendor.objects.create(number="V20001", name="Papier Müller GmbH", iban="DE89370400440532013000")
    assert titles("sabine.roth", "Papier", "vendors") == ["V20001 Papier Müller GmbH"]
    assert titles("sabine.roth", "V2000", "vendors") == ["V20001 Papier Müller GmbH"]
    assert titles("anna.schmidt", "Papier", "vendors") == []


def test_at_most_so_many_of_each_kind(demo_bank: Any) -> None:
    Vendor.objects.bulk_create(
        Vendor(number=f"V3{n:04}", name=f"Lieferant {n}", iban="DE89370400440532013000")
        for n in range(MAX_PER_KIND + 5)
    )
    assert len(titles("sabine.roth", "Lieferant", "vendors")) == MAX_PER_KIND


def test_a_single_letter_finds_nothing(demo_bank: Any) -> None:
    assert search(actor("sabine.roth"), " a ").empty


# -- walls: the outsider finds no walled case and no confidential issuer ------------------------


@pytest.fixture
def walls(demo_bank: Any) -> int:
    """The demo's walls: Falcon (Nordbank, confidential, Tim crossed over), Piston (Autowerk,
    announced); the deal-mandate case of Falcon."""
    seed_demo_walls()
    from backoffice.cases.models import Case

    return Case.objects.get(process__key="deal-mandate", title="Project Falcon").pk


def test_an_outsider_finds_neither_the_walled_case_nor_the_confidential_issuer(walls: int) -> None:
    assert titles("niklas.wolf", "Falcon", "cases") == []
    assert titles("niklas.wolf", f"#{walls}", "cases") == []
    issuers = titles("niklas.wolf", "bank", "issuers")
    assert issuers == ["Hanse Kreditbank AG", "Rheinische Handelsbank AG"]
    assert titles("niklas.wolf", "nordbank", "issuers") == []
    # the announced deal's issuer is public (restricted list)
    assert titles("niklas.wolf", "Autowerk", "issuers") == ["Autowerk Süd AG"]


def test_those_inside_the_wall_and_compliance_find_the_confidential_issuer(walls: int) -> None:
    assert titles("tim.hartmann", "nordbank", "issuers") == ["Nordbank AG"]  # crossed over
    assert titles("clara.vogel", "nordbank", "issuers") == ["Nordbank AG"]  # compliance
    assert titles("martin.jung", "nordbank", "issuers") == ["Nordbank AG"]  # internal audit


def test_the_search_page_and_api_name_no_confidential_issuer_to_an_outsider(walls: int) -> None:
    page = browser("niklas.wolf").get("/search/?q=bank")
    assert page.status_code == 200
    html = page.content.decode().lower()
    assert "hanse kreditbank ag" in html
    assert "nordbank" not in html and "falcon" not in html
    answer = Person("niklas.wolf").get("/search?q=bank")
    assert answer.status_code == 200
    assert [h["title"] for h in answer.json()["issuers"]] == [
        "Hanse Kreditbank AG",
        "Rheinische Handelsbank AG",
    ]
    assert "nordbank" not in answer.content.decode().lower()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet="abcdefghiklmnoprstuwABFHNPR #0123456789", max_size=8))
def test_whatever_an_outsider_types_the_hits_stay_within_what_they_may_see(
    walls: int, text: str
) -> None:
    niklas = actor("niklas.wolf")
    found = search(niklas, text)
    listed = {f"/cases/{pk}/" for pk in visible_cases(niklas).values_list("pk", flat=True)}
    assert {hit.url for hit in found.kinds.get("cases", [])} <= listed
    assert all("Nordbank" not in hit.title for hit in found.kinds.get("issuers", []))
    assert all(len(hits) <= MAX_PER_KIND for hits in found.kinds.values())


# -- the page, in English and German ------------------------------------------------------------


def test_the_page_groups_hits_by_kind_with_links(demo_bank: Any) -> None:
    seed_demo_credit()
    html = browser("lukas.becker").get("/search/?q=Lange").content.decode()
    assert '<h2 id="found-borrowers">Borrowers</h2>' in html
    assert 'href="/credit/borrowers/B000004/"' in html
    assert '<h2 id="found-people">People</h2>' in html  # Laura Lange
    assert 'role="search"' in html  # the box in the header and the page's own


def test_the_page_speaks_german(demo_bank: Any) -> None:
    seed_demo_credit()
    client = browser("lukas.becker", "de")
    html = client.get("/search/?q=Lange").content.decode()
    assert '<h1 id="search-page-title">Suchen</h1>' in html
    assert 'aria-label="Alles durchsuchen"' in html  # the box in the header
    assert '<h2 id="found-borrowers">Kreditnehmer</h2>' in html
    assert '<h2 id="found-people">Personen</h2>' in html
    nothing = client.get("/search/?q=zzzz").content.decode()
    assert "Nichts, was Sie sehen dürfen, passt zu „zzzz“." in nothing
