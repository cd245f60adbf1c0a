"""#19 the dashboard: charts drawn on the server whose every bar, and every tile, counts what
the list it links to shows (defect 5), readable by screen readers, in German, on a phone."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.cases.services import do_start_case
from backoffice.web.charts import Bar, Chart, chart_svg
from tests.cases.conftest import payment
from tests.support import html_pages
from tests.web.test_pages import as_user

CHART = re.compile(r'<figure class="chart-figure" id="chart-([a-z-]+)">(.*?)</figure>', re.S)
BAR = re.compile(
    r'<a href="([^"]+)" class="chart-link">.*?<text [^>]*class="chart-value">([\d.,]+)</text></a>'
)
TILE = re.compile(r'<a class="tile[^"]*" href="([^"]+)"><span class="big">(\d+)</span> ([^<]+)</a>')
TBODY = re.compile(r"<tbody>(.*?)</tbody>", re.S)
ROW = re.compile(r"<tr\b(.*?)</tr>", re.S)


# -- the drawing (pure) ------------------------------------------------------------------


def test_a_chart_names_itself_and_each_bar_with_its_number_for_screen_readers() -> None:
    chart = Chart(
        "states",
        "Cases by state",
        "Cases I may see.",
        (Bar("submitted", 3, "/cases/?state=submitted"), Bar("released", 12, "/cases/?state=r")),
        "/cases/",
    )
    svg = chart_svg(chart)
    assert '<h2 class="chart-title"><a href="/cases/">Cases by state</a></h2>' in svg
    assert 'aria-labelledby="chart-states-title" aria-describedby="chart-states-desc"' in svg
    assert '<title id="chart-states-title">Cases by state</title>' in svg
    assert "Cases I may see. submitted: 3, released: 12</desc>" in svg
    # each link is named by the label and the number it shows
    assert re.search(
        r'state=submitted" class="chart-link"><text[^>]*>submitted</text>.*?>3</text></a>', svg
    )
    # a chart of links is a group (an image may hold no links); one without is an image
    assert 'role="group"' in svg
    plain = Chart("x", "Plain", "", (Bar("a", 1),))
    assert 'role="img"' in chart_svg(plain) and "<a " not in chart_svg(plain)


def test_a_chart_scales_to_a_phone_and_its_longest_bar_is_the_largest_number() -> None:
    chart = Chart("m", "M", "", (Bar("small", 2), Bar("large", 8), Bar("none", 0)))
    svg = chart_svg(chart)
    assert 'width="100%"' in svg and re.search(r'viewBox="0 0 320 \d+"', svg)
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert widths[1] == max(widths) and widths[0] < widths[1] and widths[2] == 0


def test_chart_text_is_escaped_and_numbers_follow_the_page_language() -> None:
    chart = Chart("e", "<script>", "a & b", (Bar('"quoted" <b>', 1234, "/x?a=1&b=2"),))
    svg = chart_svg(chart, number=lambda n: f"{n:,}".replace(",", "."))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'href="/x?a=1&amp;b=2"' in svg
    assert "&quot;quoted&quot; &lt;b&gt;: 1.234" in svg  # the description
    assert 'class="chart-value">1.234</text>' in svg


def test_an_empty_chart_says_so_instead_of_drawing_nothing() -> None:
    svg = chart_svg(Chart("e", "Escalations", "", ()), empty="nothing yet")
    assert "<svg" not in svg and "nothing yet" in svg


# -- the page: every number agrees with its list ------------------------------------------


@pytest.fixture
def bank(demo_bank: Any) -> None:
    """The demo cases, credits (one escalated) and mitigations; some cases made older, so
    that each age band has something."""
    from backoffice.credit.demo import seed_demo_credit
    from backoffice.ops.seed import seed_demo_cases

    seed_demo_cases()
    seed_demo_credit()
    now = timezone.now()
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for pk, days in zip(ids[::3], (3, 15, 45, 120, 200), strict=False):
        Case.objects.filter(pk=pk).update(created=now - timedelta(days=days))


def client_of(username: str) -> Client:
    """Logged in, in English (the demo gives some people German)."""
    return as_user(username, language="en")


def charts_on(html: str) -> dict[str, list[tuple[str, int]]]:
    """Each chart on the page by its key: its bars' links and the numbers drawn."""
    return {
        key: [
            (unescape(url), int(n.replace(".", "").replace(",", "")))
            for url, n in BAR.findall(body)
        ]
        for key, body in CHART.findall(html)
    }


def rows_listed(client: Client, url: str) -> int:
    """How many rows the list at ``url`` shows, over all its pages (its first table)."""
    count = 0
    for _url, html in html_pages(client, url):
        body = TBODY.search(html)
        assert body is not None, url
        count += sum(1 for row in ROW.findall(body[1]) if "colspan" not in row)
    return count


@pytest.mark.parametrize("who", ["clara.vogel", "max.weber", "maria.keller"])
def test_every_bar_counts_exactly_the_rows_of_the_list_it_links_to(bank: None, who: str) -> None:
    client = client_of(who)
    html = client.get("/").content.decode()
    charts = charts_on(html)
    drawn = 0
    for key, bars in charts.items():
        for url, number in bars:
            assert rows_listed(client, url) == number, (key, url)
            drawn += number
    assert drawn > 0  # the demo has something in the charts


def test_the_compliance_dashboard_draws_every_chart_with_something_in_each(bank: None) -> None:
    charts = charts_on(client_of("clara.vogel").get("/").content.decode())
    assert set(charts) == {"states", "ages", "escalations", "risks", "mitigations"}
    for key in ("states", "ages", "escalations", "risks", "mitigations"):
        assert any(n for _url, n in charts[key]), key
    # every age band has a case (the fixture aged some), each linked by its band
    assert [url for url, _n in charts["ages"]] == [
        f"/cases/?age={band}" for band in ("0-7", "7-30", "30-90", "90-")
    ]


def test_each_tile_counts_the_list_it_links_to_and_escalations_agree_with_the_chart(
    bank: None,
) -> None:
    """Defect 5: "3 credit cases in escalation" on the tile, 1 in the chart beside it."""
    client = client_of("clara.vogel")
    html = client.get("/").content.decode()
    tiles = {label.strip(): (unescape(url), int(n)) for url, n, label in TILE.findall(html)}
    url, escalated = tiles["credit cases in escalation"]
    assert escalated >= 1
    assert dict(charts_on(html)["states"])["/cases/?state=escalated"] == escalated
    assert rows_listed(client, url) == escalated
    url, due = tiles["mitigations expiring or expired"]
    assert url == "/access/mitigations/?status=due" and rows_listed(client, url) == due


def test_charts_of_reports_and_access_risks_are_only_for_those_who_may_read_them(
    bank: None,
) -> None:
    charts = charts_on(client_of("anna.schmidt").get("/").content.decode())
    assert set(charts) == {"states", "ages"}
    refused = client_of("anna.schmidt").get("/access/risks/?level=high")
    assert refused.status_code == 403
    assert "chart" not in refused.content.decode()


def test_the_dashboard_speaks_german(bank: None) -> None:
    html = as_user("clara.vogel", language="de").get("/").content.decode()
    assert html.count("<svg") >= 5
    states = dict(charts_on(html))["states"]
    assert re.search(r'class="chart-label">eskaliert</text>', html)  # as the cases list says it
    assert ("/cases/?state=escalated", 1) in states or any(
        url == "/cases/?state=escalated" for url, _n in states
    )


def test_the_dashboard_needs_the_same_statements_however_many_cases(bank: None) -> None:
    client = client_of("clara.vogel")
    client.get("/")  # what a server reads once per policy version is not counted

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    few = statements()
    anna = Actor(get_user_model().objects.get(username="anna.schmidt"))
    for _ in range(20):
        do_start_case(anna, "payment-release", payment("2500.00"), submit=True).raise_if_denied()
    assert statements() == few
    assert few <= 30  # 26 measured for compliance, every chart and tile drawn


@pytest.mark.parametrize(
    ("chart", "api"),
    [("mitigations", "/api/v1/access/mitigations"), ("escalations", "/api/v1/credit/escalations")],
)
def test_the_csv_of_a_bar_holds_the_rows_its_page_shows(bank: None, chart: str, api: str) -> None:
    client = client_of("clara.vogel")
    bars = charts_on(client.get("/").content.decode())[chart]
    assert bars
    for url, number in bars:
        query = url.split("?", 1)[1]
        csv = client.get(f"{api}?{query}&format=csv")
        assert csv.status_code == 200
        text = b"".join(csv.streaming_content).decode()
        assert len(text.strip().splitlines()) - 1 == number, url
