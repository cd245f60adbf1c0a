"""#19: lists sort by their column headers on the server, filter by picked people, actions
and processes (exact on the id), and forms show every field's error at once."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import get_resolver

from backoffice.audit.models import AuditEvent
from backoffice.base.sorting import SORTINGS
from backoffice.cases.models import Case
from tests.retail.conftest import demo_retail  # noqa: F401  (the fixture)
from tests.walls.test_leaks import World, world  # noqa: F401  (the fixture)
from tests.web.test_pages import as_user, start

User = get_user_model()


def rows_of(page: str) -> list[int]:
    """The case numbers of a cases list page, in the order shown."""
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    return [int(n) for n in re.findall(r'<tr><td>(\d+)</td><td><a href="/cases/', table)]


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_no_list_sorts_by_a_column_that_may_be_empty() -> None:
    """A keyset page compares with < and >, which NULL never satisfies: a sortable column
    that may be NULL would lose rows between pages."""
    get_resolver().url_patterns  # noqa: B018  (imports every view, and so every list)
    assert len(SORTINGS) >= 8
    for sorting in SORTINGS:
        for fields in sorting.columns.values():
            for path in fields:
                model, nullable = sorting.model, False
                for part in path.split("__"):
                    names = {f.name: f for f in model._meta.get_fields()}
                    if part == "pk" or part not in names:  # the pk, or an annotation
                        break
                    field = names[part]
                    nullable = nullable or bool(getattr(field, "null", False))
                    model = field.related_model or model
                assert not nullable, (sorting.model.__name__, path)


def test_the_cases_list_sorts_by_a_header_and_says_so(demo_bank: Any) -> None:
    for amount in ("300.00", "100.00", "200.00"):
        case = start(amount=amount)
        Case.objects.filter(pk=case.pk).update(title=f"Creditor {amount}")
    maria = as_user("maria.keller")
    page = maria.get("/cases/?state=submitted&sort=title").content.decode()
    titles = re.findall(r'<a href="/cases/\d+/">(Creditor [\d.]+)</a>', page)
    assert titles == ["Creditor 100.00", "Creditor 200.00", "Creditor 300.00"]
    header = re.search(r'<th scope="col" aria-sort="ascending">.*?</th>', page)
    assert header is not None and "Case" in header.group(0) and "▲" in header.group(0)
    # the same header sorts the other way round, the state filter kept
    assert 'href="?state=submitted&amp;sort=-title"' in header.group(0)
    page = maria.get("/cases/?state=submitted&sort=-title").content.decode()
    titles = re.findall(r'<a href="/cases/\d+/">(Creditor [\d.]+)</a>', page)
    assert titles == ["Creditor 300.00", "Creditor 200.00", "Creditor 100.00"]
    assert 'aria-sort="descending"' in page and "▼" in page
    # only one header is the sorted one
    assert page.count("aria-sort=") == 1


def test_pages_of_a_sorted_list_neither_skip_nor_repeat_equal_values(demo_bank: Any) -> None:
    made = [start(amount=f"{100 + i}.00").pk for i in range(7)]
    Case.objects.filter(pk__in=made).update(title="Same title")  # ties everywhere
    maria = as_user("maria.keller")
    url: str | None = "/cases/?sort=title&limit=3"
    seen: list[int] = []
    while url is not None:
        page = maria.get(url).content.decode()
        assert "sort=title" in (next_link(page) or "sort=title")  # the next page keeps it
        seen += rows_of(page)
        url = next_link(page)
    assert sorted(seen) == sorted(set(seen))  # nothing twice
    assert [pk for pk in seen if pk in made] == sorted(made)  # ties in pk order, all there


def test_an_unknown_sort_is_refused_with_the_columns_there_are(demo_bank: Any) -> None:
    response = as_user("maria.keller").get("/cases/?sort=payload")
    assert response.status_code == 422  # bad input, as every bad parameter here
    text = response.content.decode()
    assert "this list sorts by" in text and "title" in text and "maker" in text
    api = as_user("clara.vogel").get("/api/v1/walls/crossings.csv?sort=reason")
    assert api.status_code == 422


def test_a_download_comes_in_the_order_of_the_page(world: World) -> None:  # noqa: F811
    niklas = as_user("niklas.wolf")
    for project in ("project-falcon", "project-nothing"):  # two refusals on record
        form = {"person": "niklas.wolf", "project": project, "days": 5, "reason": "x"}
        niklas.post("/cases/new/wall-crossing/", form | {"submit": "1"})
    clara = as_user("clara.vogel")
    page = clara.get("/walls/denials/?sort=seq").content.decode()
    link = re.search(r'href="(/api/v1/walls/denials\.csv[^"]*)"', page)
    assert link is not None and link.group(1) == "/api/v1/walls/denials.csv?sort=seq"
    oldest_first = list(csv.DictReader(io.StringIO(clara.get(link.group(1)).getvalue().decode())))
    newest_first = list(
        csv.DictReader(io.StringIO(clara.get("/api/v1/walls/denials.csv").getvalue().decode()))
    )
    assert len(oldest_first) >= 2
    assert [r["seq"] for r in oldest_first] == [r["seq"] for r in reversed(newest_first)]


# -- the person picker ------------------------------------------------------------------------


def test_the_person_picker_finds_people_by_name_or_login(demo_bank: Any) -> None:
    anna = as_user("anna.schmidt")
    by_name = anna.get("/organisation/people/?q=Lena").json()
    assert {"id": "lena.schulz", "name": "Lena Schulz"} in by_name["people"]
    by_login = anna.get("/organisation/people/?q=schulz").json()
    assert [p["id"] for p in by_login["people"]] == ["lena.schulz"]
    everyone = anna.get("/organisation/people/?q=").json()
    assert len(everyone["people"]) == 10 and everyone["more"] is True


def test_the_person_picker_shows_former_colleagues_to_audit_only(demo_bank: Any) -> None:
    User.objects.filter(username="jonas.fischer").update(is_active=False)
    anna = as_user("anna.schmidt").get("/organisation/people/?q=jonas").json()
    assert anna["people"] == []
    auditor = as_user("martin.jung").get("/organisation/people/?q=jonas").json()
    assert [p["id"] for p in auditor["people"]] == ["jonas.fischer"]


def test_the_person_picker_needs_a_login(client: Any, demo_bank: Any) -> None:
    response = client.get("/organisation/people/?q=lena")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# -- filters with pickers --------------------------------------------------------------------


def events_table(page: str) -> str:
    return page.split('id="audit-events"', 1)[1]


def test_the_audit_list_filters_by_picked_actor_action_and_process(demo_bank: Any) -> None:
    case = start()
    start(maker="lukas.becker")
    auditor = as_user("martin.jung")
    page = auditor.get("/audit/").content.decode()
    # the filters are pickers: the actor a combobox, action and process selects
    assert 'id="f-actor" type="text" role="combobox"' in page
    assert '<option value="case.submitted"' in page
    assert '<option value="payment-release"' in page
    anna = events_table(auditor.get("/audit/?actor=anna.schmidt").content.decode())
    actors = set(re.findall(r"<td>([a-z]+\.[a-z]+)(?: <span|</td>)", anna))
    assert actors == {"anna.schmidt"}
    # exact on the login: a part of it finds nothing
    part = events_table(auditor.get("/audit/?actor=anna").content.decode())
    assert "No events." in part
    submitted = events_table(auditor.get("/audit/?action=case.submitted").content.decode())
    assert set(re.findall(r"<code>([a-z_.]+)</code>", submitted)) == {"case.submitted"}
    process = events_table(auditor.get("/audit/?process=payment-release").content.decode())
    objects = set(re.findall(r'<a href="/cases/(\d+)/">case', process))
    assert str(case.pk) in objects
    payments = {
        str(pk)
        for pk in Case.objects.filter(process__key="payment-release").values_list("pk", flat=True)
    }
    assert objects <= payments and "org.unit.created" not in process
    other = events_table(auditor.get("/audit/?process=credit-application").content.decode())
    assert f'href="/cases/{case.pk}/"' not in other


def test_the_cases_list_filters_by_the_picked_maker_exactly(demo_bank: Any) -> None:
    anna_case, lukas_case = start(), start(maker="lukas.becker")
    maria = as_user("maria.keller")
    page = maria.get("/cases/?maker=lukas.becker").content.decode()
    assert lukas_case.pk in rows_of(page) and anna_case.pk not in rows_of(page)
    assert 'value="Lukas Becker"' in page  # the picker shows the name of who was picked
    assert rows_of(maria.get("/cases/?maker=lukas").content.decode()) == []


def test_audit_events_sort_by_actor_with_the_sequence_breaking_ties(demo_bank: Any) -> None:
    start()
    start(maker="lukas.becker")
    page = events_table(as_user("martin.jung").get("/audit/?sort=actor").content.decode())
    seqs = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)</td>", page)]
    shown = list(AuditEvent.objects.filter(seq__in=seqs).order_by("actor", "seq"))
    assert seqs == [e.seq for e in shown]


# -- defect 14 -------------------------------------------------------------------------------


def test_a_case_form_shows_every_field_error_at_once(demo_bank: Any) -> None:
    form = {
        "creditor": "",  # required (the form's own check)
        "iban": "DE00 1234",  # not an IBAN (the process's field rule)
        "amount": "twelve",  # not a number (the form's own check)
        "amount__currency": "EUR",
        "value_date": "2026-12-01",
        "purpose": "x",
        "submit": "1",
    }
    page = as_user("anna.schmidt").post("/cases/new/payment-release/", form)
    assert page.status_code == 422
    errors = dict(re.findall(r'id="id_(\w+)-error" role="alert">([^<]+)<', page.content.decode()))
    assert set(errors) >= {"creditor", "iban", "amount"}, errors
    assert errors["iban"] == "is not an IBAN"
    assert not Case.objects.filter(maker__username="anna.schmidt").exists()


def test_the_crossing_project_is_picked_from_the_projects_one_may_know(
    world: World,  # noqa: F811
) -> None:
    clara = as_user("clara.vogel").get("/cases/new/wall-crossing/").content.decode()
    select = re.search(r'<select name="project".*?</select>', clara, re.S)
    assert select is not None and '<option value="project-falcon">' in select.group(0)
    niklas = as_user("niklas.wolf").get("/cases/new/wall-crossing/").content.decode()
    select = re.search(r'<select name="project".*?</select>', niklas, re.S)
    assert select is not None
    assert "falcon" not in niklas.lower() and "heron" not in niklas.lower()


@pytest.mark.parametrize("url", ["/cases/?sort=-changed", "/audit/?sort=-at"])
def test_sorted_lists_keep_their_filters_in_the_header_links(demo_bank: Any, url: str) -> None:
    start()
    page = as_user("martin.jung").get(url + "&process=payment-release").content.decode()
    headers = re.findall(r'<a class="sort[^"]*" href="([^"]+)"', page)
    assert headers and all("process=payment-release" in h for h in headers)


def test_master_data_sorts_by_a_column_and_its_download_follows(
    demo_retail: Any,  # noqa: F811
) -> None:
    from backoffice.masterdata.models import Vendor

    for number, name in (("V10000", "Zeta GmbH"), ("V10001", "Alpha AG"), ("V10002", "Mitte KG")):
        Vendor.objects.create(number=number, name=name, iban="DE02120300000000202051")
    ute = as_user("ute.beck")
    page = ute.get("/masterdata/vendors/?sort=name").content.decode()
    shown = re.findall(r"<td>(V1000\d)</td>", page)
    assert shown == ["V10001", "V10002", "V10000"]
    assert 'aria-sort="ascending"' in page
    link = re.search(r'href="(/api/v1/masterdata/vendors\?format=csv[^"]*)"', page)
    assert link is not None and link.group(1).endswith("&amp;sort=name")
    body = ute.get(link.group(1).replace("&amp;", "&")).getvalue().decode()
    assert [r["number"] for r in csv.DictReader(io.StringIO(body))] == shown
    # a column that may be empty is no sort: the header is plain, without a link
    employees = ute.get("/masterdata/employees/").content.decode()
    assert "?sort=number" in employees and "sort=hired" not in employees
    assert "sort=leaving_date" not in employees


def test_compliance_sorts_the_deal_projects_by_issuer(world: World) -> None:  # noqa: F811
    clara = as_user("clara.vogel")
    page = clara.get("/walls/?sort=-issuer").content.decode()
    table = page[page.index('id="projects"') :]
    shown = re.findall(r'href="/walls/projects/([a-z0-9-]+)/"', table)
    from backoffice.walls.models import DealProject

    expected = list(
        DealProject.objects.order_by("-issuer__name", "-pk").values_list("key", flat=True)
    )
    assert len(shown) >= 2 and shown == expected
    assert 'aria-sort="descending"' in table


def test_the_action_select_lists_each_action_on_the_trail_once_in_order(demo_bank: Any) -> None:
    start()
    start(maker="lukas.becker")
    from backoffice.audit.queries import known_actions

    on_trail = AuditEvent.objects.order_by("action").values_list("action", flat=True)
    found = known_actions()
    assert found == list(dict.fromkeys(on_trail))  # the database's order, each once
