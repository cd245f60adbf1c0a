"""#13: walls do not leak through refusals. Someone outside a wall learns from no answer which
issuer a confidential deal is about, whether a project exists, or where another person stands;
"unknown" and "not permitted" answer alike. Compliance has every refusal on record in full.

The world is the demo's walls (``walls.seed``): Project Falcon (Nordbank AG, confidential,
on the watch list, Tim brought over the wall), Project Piston (Autowerk, announced: on the
restricted list, public), and here also Project Heron (Rheinische Handelsbank AG,
confidential). Niklas Wolf trades: he is on the public side of every wall.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.walls.models import IssuerDocument, ListEntry, WallCrossing
from backoffice.walls.seed import seed_demo_walls
from tests.cases.conftest import Person, problem
from tests.walls.conftest import cross, crossing_payload, open_project, released

#: Who a confidential deal is about: never in an answer to someone outside its wall.
CONFIDENTIAL = ("nordbank", "rheinbank", "rheinische handelsbank")
#: The deals' code names: not in an answer either, unless the asker typed them.
CODE_NAMES = ("falcon", "heron")
UNKNOWN = {
    "code": "wall.unknown_project",
    "detail": "There is no deal project by that name that you may ask a wall crossing for.",
    "errors": [{"field": "project", "message": "no such deal project"}],
}


@dataclass(frozen=True)
class World:
    falcon: int  # the deal-mandate cases
    heron: int
    document: int  # Falcon's due diligence findings, confidential
    crossing: int  # Tim's, for Falcon


@pytest.fixture
def world(demo_bank: Any) -> World:
    seed_demo_walls()
    heron = open_project(Person, "rheinbank", "Project Heron", maker="laura.lange")
    return World(
        falcon=Case.objects.get(process__key="deal-mandate", title="Project Falcon").pk,
        heron=heron["id"],
        document=IssuerDocument.objects.get(kind="confidential").pk,
        crossing=WallCrossing.objects.get().pk,
    )


def page(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def essentials(response: Any) -> dict[str, Any]:
    """What a refusal says: status, code, words, field errors (not where it was asked)."""
    body = response.json()
    return {"status": response.status_code} | {k: body[k] for k in ("code", "detail", "errors")}


# -- "unknown" and "not permitted" answer alike ------------------------------------------------


def test_a_trader_asking_for_a_crossing_hears_the_same_for_a_confidential_project_and_none(
    world: World,
) -> None:
    niklas = Person("niklas.wolf")
    answers = [
        niklas.start("wall-crossing", crossing_payload("niklas.wolf", project))
        for project in ("project-falcon", "project-heron", "project-piston", "project-nothing")
    ]
    assert [essentials(a) for a in answers] == [{"status": 422} | UNKNOWN] * 4
    assert len({a.content for a in answers}) == 1  # byte for byte
    # asking for someone over the wall already tells nothing of them either
    tims = niklas.start("wall-crossing", crossing_payload("tim.hartmann", "project-falcon"))
    assert tims.content == answers[0].content
    # compliance sees who probed what, with the issuer
    probed = AuditEvent.objects.filter(
        action="walls.access_denied", actor="niklas.wolf", object_type="deal_project"
    )
    assert {(e.object_id, e.after.get("issuer")) for e in probed} == {
        ("project-falcon", "nordbank"),
        ("project-heron", "rheinbank"),
        ("project-piston", "autowerk"),
        ("project-nothing", None),
    }


def test_the_crossing_form_answers_alike_for_a_confidential_project_and_none(
    world: World,
) -> None:
    niklas = page("niklas.wolf")

    def ask(project: str) -> Any:
        form = {
            "person": "niklas.wolf",
            "project": project,
            "days": 5,
            "reason": "help",
            "submit": "1",
        }
        return niklas.post("/cases/new/wall-crossing/", form)

    known, unknown = ask("project-falcon"), ask("project-nothing")
    assert known.status_code == unknown.status_code == 422
    html = without_tokens(known.content.decode())
    assert html == without_tokens(unknown.content.decode()).replace(
        "project-nothing", "project-falcon"
    )
    assert "no such deal project" in html
    assert not any(word in html.lower() for word in CONFIDENTIAL)


def test_submitting_a_drafted_crossing_answers_alike_for_a_confidential_project_and_none(
    world: World,
) -> None:
    niklas = Person("niklas.wolf")
    answers = []
    for project in ("project-falcon", "project-nothing"):
        draft = niklas.start(
            "wall-crossing", crossing_payload("niklas.wolf", project), submit=False
        )
        assert draft.status_code == 201  # a draft is not checked: nothing to tell either
        answers.append(niklas.act(draft.json()["id"], "submit"))
    assert essentials(answers[0]) == essentials(answers[1]) == {"status": 422} | UNKNOWN


def test_a_walled_case_and_a_walled_document_answer_like_missing_ones(world: World) -> None:
    niklas = Person("niklas.wolf")
    for case_id in (world.falcon, world.heron):
        walled, missing = niklas.get(f"/cases/{case_id}"), niklas.get("/cases/999999")
        assert essentials(walled) == essentials(missing) | {
            "detail": f"There is no case {case_id} that you may see."
        }
        acted = niklas.act(case_id, "release")
        assert essentials(acted) == essentials(walled)
    document = niklas.get(f"/walls/documents/{world.document}")
    missing = niklas.get("/walls/documents/999999")
    assert essentials(document) == essentials(missing) | {
        "detail": f"There is no document {world.document} you may read."
    }
    assert essentials(document)["code"] == "wall.not_found"


def test_a_brewer_nash_refusal_of_a_read_names_no_issuer(world: World) -> None:
    laura = Person("laura.lange")  # read Rheinbank's mandate (she entered it)
    refused = laura.get(f"/walls/documents/{world.document}")  # Nordbank's: a competitor
    body = problem(refused, 404, "wall.not_found")
    assert not any(word in str(body).lower() for word in CONFIDENTIAL)
    assert problem(laura.get(f"/cases/{world.falcon}"), 404, "case.not_found")
    recorded = AuditEvent.objects.filter(action="walls.access_denied", actor="laura.lange")
    assert {e.after["code"] for e in recorded} == {"wall.conflict"}
    assert all("Nordbank AG" in e.after["message"] for e in recorded)  # in full, on record


def test_the_compliance_pages_and_api_answer_alike_for_any_project_key(world: World) -> None:
    niklas, browser = Person("niklas.wolf"), page("niklas.wolf")
    for suffix in ("insiders", "insiders.csv"):
        known = niklas.get(f"/walls/projects/project-falcon/{suffix}")
        assert essentials(known) == essentials(niklas.get(f"/walls/projects/project-x/{suffix}"))
    for action in ("announce", "close", "members"):
        body = {"reason": "x", "person": "niklas.wolf"}
        known = niklas.post(f"/walls/projects/project-falcon/{action}", body)
        assert essentials(known) == essentials(niklas.post(f"/walls/projects/x/{action}", body))
    known, unknown = (
        browser.get("/walls/projects/project-falcon/"),
        browser.get("/walls/projects/x/"),
    )
    assert known.status_code == unknown.status_code == 403
    assert without_tokens(known.content.decode()) == without_tokens(unknown.content.decode())


def test_a_trade_in_a_watch_listed_issuer_looks_like_any_other(world: World) -> None:
    """CW-4: the watch list restricts nothing and is seen by control only."""
    niklas, paula = Person("niklas.wolf"), Person("paula.schwarz")
    seen = []
    for issuer in ("nordbank", "hansebank"):  # on the watch list (Falcon) / on no list
        trade = niklas.start("personal-trade", {"issuer": issuer, "side": "buy", "quantity": 9})
        released(trade, paula)
        view = niklas.get(f"/cases/{trade.json()['id']}").json()
        seen.append(
            (
                trade.status_code,
                view["status"],
                [(e["kind"], e["denial"]) for e in view["timeline"]],
                sorted(view["preview"] or {}),  # a closed case previews nothing
                [(a["action"], a["allowed"], a["code"]) for a in view["actions"]],
            )
        )
        assert "watch" not in str(view).lower()
    assert seen[0] == seen[1]


# -- the sweep: every walls endpoint and case flow, as the outsider ------------------------------

Probe = Callable[[World], Any]


def api(method: str, path: str, body: dict[str, Any] | None = None) -> Probe:
    def probe(world: World) -> Any:
        niklas = Person("niklas.wolf")
        url = path.format(**vars(world))
        if method == "get":
            return niklas.get(url)
        return getattr(niklas, method)(url, body or {})

    return probe


def html(method: str, path: str, body: dict[str, Any] | None = None) -> Probe:
    def probe(world: World) -> Any:
        url = path.format(**vars(world))
        browser = page("niklas.wolf")
        return browser.get(url) if method == "get" else browser.post(url, body or {})

    return probe


def crossing(project: str, who: str = "niklas.wolf", *, then_view: bool = False) -> Probe:
    def probe(world: World) -> Any:
        niklas = Person("niklas.wolf")
        draft = niklas.start("wall-crossing", crossing_payload(who, project), submit=False)
        refused = niklas.act(draft.json()["id"], "submit")
        if not then_view:
            return refused
        return niklas.get(f"/cases/{draft.json()['id']}")  # the preview and the timeline

    return probe


def crossing_page(world: World) -> Any:
    """The case page of a refused crossing draft: preview, timeline, actions."""
    crossing("project-falcon")(world)
    drafts = Case.objects.filter(process__key="wall-crossing", maker__username="niklas.wolf")
    draft = drafts.latest("pk")
    return page("niklas.wolf").get(f"/cases/{draft.pk}/")


def watch_entry_removal(world: World) -> Any:
    entry = ListEntry.objects.get(kind="watch", until__isnull=True, issuer__key="nordbank")
    return Person("niklas.wolf").post(f"/walls/list-entries/{entry.pk}/remove", {"reason": "x"})


REASON = {"reason": "just asking"}
MANDATE = {
    "project": "Project Falcon",
    "issuer": "hansebank",
    "mandate": "advisory",
    "description": "…",
}
DOCUMENT = {"issuer": "hansebank", "area": "private-side", "kind": "confidential", "title": "T"}

#: group: {probe: (probe, whether the asker typed a code name, which the answer may echo)}
PROBES: dict[str, dict[str, tuple[Probe, bool]]] = {
    "walled cases": {
        "api case falcon": (api("get", "/cases/{falcon}"), False),
        "api case heron": (api("get", "/cases/{heron}"), False),
        "api release falcon": (
            api("post", "/cases/{falcon}/actions", {"action": "release"}),
            False,
        ),
        "api comment heron": (api("post", "/cases/{heron}/actions", {"action": "comment"}), False),
        "api amend falcon": (api("patch", "/cases/{falcon}", {"payload": {"issuer": "x"}}), False),
        "api case list": (api("get", "/cases"), False),
        "api case list of mandates": (api("get", "/cases?process=deal-mandate"), False),
        "page cases": (html("get", "/cases/"), False),
        "page case falcon": (html("get", "/cases/{falcon}/"), False),
        "page case heron": (html("get", "/cases/{heron}/"), False),
        "page act on falcon": (html("post", "/cases/{falcon}/act/", {"action": "release"}), False),
        "page edit falcon": (html("get", "/cases/{falcon}/edit/"), False),
    },
    "walls api": {
        "documents": (api("get", "/walls/documents"), False),
        "document falcon": (api("get", "/walls/documents/{document}"), False),
        "file a document": (api("post", "/walls/documents", DOCUMENT | {"body": "…"}), False),
        "restricted list": (api("get", "/walls/restricted-list"), False),
        "restricted list csv": (api("get", "/walls/restricted-list.csv"), False),
        "watch list": (api("get", "/walls/watch-list"), False),
        "watch list csv": (api("get", "/walls/watch-list.csv"), False),
        "watch hansebank": (
            api("post", "/walls/watch-list", REASON | {"issuer": "hansebank"}),
            False,
        ),
        "remove watch entry": (watch_entry_removal, False),
        "projects": (api("get", "/walls/projects"), False),
        "insiders falcon": (api("get", "/walls/projects/project-falcon/insiders"), True),
        "insiders heron csv": (api("get", "/walls/projects/project-heron/insiders.csv"), True),
        "add member": (api("post", "/walls/projects/project-falcon/members", REASON), True),
        "announce": (api("post", "/walls/projects/project-heron/announce", REASON), True),
        "close": (api("post", "/walls/projects/project-heron/close", REASON), True),
        "crossings": (api("get", "/walls/crossings"), False),
        "crossings csv": (api("get", "/walls/crossings.csv"), False),
        "end tims crossing": (api("post", "/walls/crossings/{crossing}/end", REASON), False),
        "denials": (api("get", "/walls/denials"), False),
        "denials csv": (api("get", "/walls/denials.csv"), False),
        "reset tims history": (
            api(
                "post", "/walls/histories/tim.hartmann/reset", REASON | {"conflict_class": "banks"}
            ),
            False,
        ),
    },
    "walls pages": {
        "overview": (html("get", "/walls/"), False),
        "restricted list": (html("get", "/walls/restricted/"), False),
        "project falcon": (html("get", "/walls/projects/project-falcon/"), True),
        "crossings": (html("get", "/walls/crossings/"), False),
        "denials": (html("get", "/walls/denials/"), False),
    },
    "crossing requests": {
        "api processes": (api("get", "/processes"), False),
        "page new case": (html("get", "/cases/new/"), False),
        "page crossing form": (html("get", "/cases/new/wall-crossing/"), False),
        "api crossing falcon": (crossing("project-falcon"), True),
        "api crossing heron": (crossing("project-heron"), True),
        "api crossing for tim": (crossing("project-falcon", "tim.hartmann"), True),
        "api crossing draft viewed": (crossing("project-falcon", then_view=True), True),
        "page crossing draft": (crossing_page, True),
        "api mandate with a taken code name": (
            api("post", "/cases", {"process": "deal-mandate", "payload": MANDATE}),
            True,
        ),
    },
    # #19: the global search finds no walled case and no confidential issuer for an outsider
    "search": {
        "page search banks": (html("get", "/search/?q=bank"), False),
        "page search a walled case's number": (html("get", "/search/?q={falcon}"), False),
        "page search falcon": (html("get", "/search/?q=falcon"), True),
        "api search banks": (api("get", "/search?q=bank"), False),
        "api search heron": (api("get", "/search?q=heron"), True),
        "api search a walled case's number": (api("get", "/search?q=%23{heron}"), False),
    },
    "everyday pages": {
        "home": (html("get", "/"), False),
        "inbox": (html("get", "/inbox/"), False),
        "organisation": (html("get", "/organisation/"), False),
        "reports": (html("get", "/reports/"), False),
    },
}


@pytest.mark.parametrize("group", list(PROBES))
def test_no_answer_to_an_outsider_names_a_confidential_issuer(world: World, group: str) -> None:
    leaks = []
    for name, (probe, typed) in PROBES[group].items():
        response = probe(world)
        assert response.status_code < 500, (name, response.content)
        said = response.getvalue().decode().lower()
        leaks += [(name, w) for w in CONFIDENTIAL + (() if typed else CODE_NAMES) if w in said]
    assert leaks == []


# -- insiders and compliance still hear why ------------------------------------------------------


def test_the_deal_team_hears_why_of_the_project_but_not_of_the_persons_position(
    world: World,
) -> None:
    jan, tim = Person("jan.schmitt"), Person("tim.hartmann")  # Falcon's lead; over the wall
    closed_days = jan.start("wall-crossing", crossing_payload("lisa.neumann", days=31))
    assert essentials(closed_days)["code"] == "wall.crossing_too_long"
    again = jan.start("wall-crossing", crossing_payload("tim.hartmann"))
    body = problem(again, 422, "wall.crossing_refused")  # Tim's position is Tim's
    assert "nordbank" not in str(body).lower() and body["errors"] == []
    own = problem(
        tim.start("wall-crossing", crossing_payload("tim.hartmann")), 422, "wall.crossing_unneeded"
    )
    assert "Nordbank AG" in own["detail"]  # he knows his own crossing
    clara = Person("clara.vogel")
    told = problem(
        clara.start("wall-crossing", crossing_payload("tim.hartmann")), 422, "wall.crossing_refused"
    )
    assert "Nordbank AG" in told["errors"][0]["message"]  # compliance reads why
    recorded = AuditEvent.objects.filter(action="walls.access_denied", after__person="tim.hartmann")
    assert {(e.actor, e.after["code"]) for e in recorded} == {
        ("jan.schmitt", "wall.crossing_unneeded"),
        ("tim.hartmann", "wall.crossing_unneeded"),
        ("clara.vogel", "wall.crossing_unneeded"),
    }
    Person("clara.vogel").post("/walls/projects/project-falcon/close", {"reason": "lost"})
    closed = problem(
        jan.start("wall-crossing", crossing_payload("lisa.neumann")), 409, "wall.project_closed"
    )
    assert "Project Falcon" in closed["detail"]


def test_a_conflict_that_arises_before_the_release_is_told_to_compliance_not_the_requester(
    world: World,
) -> None:
    jan, clara = Person("jan.schmitt"), Person("clara.vogel")
    request = jan.start("wall-crossing", crossing_payload("lisa.neumann"))
    assert request.status_code == 201 and request.json()["status"] == "submitted"
    # meanwhile Lisa (research) is brought over Heron's wall and reads Rheinbank's mandate
    cross(Person, "lisa.neumann", "project-heron", requester="laura.lange")
    assert Person("lisa.neumann").get(f"/cases/{world.heron}").status_code == 200
    refused = problem(clara.act(request.json()["id"], "release"), 422, "wall.crossing_refused")
    assert "Rheinische Handelsbank AG" in refused["errors"][0]["message"]
    timeline = jan.get(f"/cases/{request.json()['id']}").json()["timeline"]
    assert timeline[-1]["denial"]["code"] == "wall.crossing_refused"
    assert "rhein" not in str(timeline).lower()  # the requester's view keeps no reason
    recorded = AuditEvent.objects.get(
        action="walls.access_denied", actor="clara.vogel", after__person="lisa.neumann"
    )
    assert recorded.after["code"] == "wall.conflict"
    assert "Rheinische Handelsbank AG" in recorded.after["message"]
