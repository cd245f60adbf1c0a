"""Personal account dealing (#17) through the API: pre-clearance (PAD-1, PAD-2), the four-eyes
clearance of one blocked order (PAD-3), the holding period (PAD-4), own recommendations
(PAD-5), the quarterly attestation and its report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.walls.models import PadOrder
from tests.cases.conftest import Person, problem
from tests.walls.conftest import People, open_project, released


def order(who: Person, issuer: str = "nordbank", side: str = "buy", qty: int = 10) -> Any:
    placed = who.post("/walls/pad/orders", {"issuer": issuer, "side": side, "quantity": qty})
    assert placed.status_code == 201, placed.content
    return placed.json()


def test_an_order_in_a_restricted_issuer_is_blocked(person: People) -> None:
    clara, felix = person("clara.vogel"), person("felix.hoffmann")
    listed = clara.post("/walls/restricted-list", {"issuer": "autowerk", "reason": "IPO"})
    assert listed.status_code == 201
    blocked = order(felix, "autowerk")
    assert (blocked["status"], blocked["code"]) == ("blocked", "pad.restricted")
    assert order(felix, "motorenbau")["status"] == "executed"  # other issuers go through
    auditor = person("martin.jung")  # control deals on a personal account too, pre-cleared
    assert order(auditor, "autowerk")["code"] == "pad.restricted"
    assert AuditEvent.objects.filter(action="pad.order.blocked", actor="felix.hoffmann").exists()
    assert [o["id"] for o in felix.get("/walls/pad/orders").json()][1] == blocked["id"]


def test_a_watch_list_hit_is_executed_and_alerts_compliance_only(person: People) -> None:
    open_project(person)  # Nordbank on the watch list, confidentially
    felix = person("felix.hoffmann")
    done = order(felix)
    assert done["status"] == "executed"
    assert "alert" not in done and "watch" not in str(done).lower()
    hit = AuditEvent.objects.get(action="walls.watch_list.hit")
    assert (hit.object_id, hit.after["employee"]) == ("nordbank", "felix.hoffmann")
    [seen] = person("clara.vogel").get("/walls/pad/all-orders").json()
    assert (seen["employee"], seen["alerted"]) == ("felix.hoffmann", True)
    problem(felix.get("/walls/pad/all-orders"), 403, "wall.forbidden")


def test_compliance_clears_one_blocked_order_with_a_second_officer(person: People) -> None:
    clara, paula, felix = person("clara.vogel"), person("paula.schwarz"), person("felix.hoffmann")
    clara.post("/walls/restricted-list", {"issuer": "autowerk", "reason": "IPO"})
    first, second = order(felix, "autowerk"), order(felix, "autowerk", qty=5)
    problem(  # the employee does not clear their own order
        felix.post(f"/walls/pad/orders/{first['id']}/clearance", {"reason": "x"}),
        403,
        "wall.forbidden",
    )
    asked = clara.post(
        f"/walls/pad/orders/{first['id']}/clearance", {"reason": "forced sale: inheritance"}
    )
    assert asked.status_code == 201, asked.content
    case = asked.json()["case"]
    problem(clara.act(case, "release"), 403, "sod.self_approval")
    assert paula.act(case, "release").json()["status"] == "released"
    statuses = {o["id"]: o["status"] for o in felix.get("/walls/pad/orders").json()}
    assert statuses == {first["id"]: "cleared", second["id"]: "blocked"}  # that one only
    assert [e["issuer"] for e in felix.get("/walls/restricted-list").json()] == ["autowerk"]
    assert order(felix, "autowerk")["status"] == "blocked"  # the restriction stays
    again = clara.post(f"/walls/pad/orders/{first['id']}/clearance", {"reason": "again"})
    problem(again, 409, "pad.not_blocked")
    problem(clara.post("/walls/pad/orders/999999/clearance", {"reason": "x"}), 404, "pad.not_found")
    cleared = AuditEvent.objects.get(action="pad.order.cleared")
    assert (cleared.actor, cleared.after["requested_by"]) == ("paula.schwarz", "clara.vogel")


def test_the_minimum_holding_period_blocks_an_early_opposite_order(person: People) -> None:
    felix = person("felix.hoffmann")
    bought = order(felix, "hansebank", "buy")
    sold = order(felix, "hansebank", "sell")
    assert (sold["status"], sold["code"]) == ("blocked", "pad.holding_period")
    assert order(felix, "hansebank", "buy")["status"] == "executed"  # adding is allowed
    PadOrder.objects.filter(employee__username="felix.hoffmann").update(
        placed_at=timezone.now() - timedelta(days=31)
    )
    assert order(felix, "hansebank", "sell")["status"] == "executed"  # 30 days in the policy
    assert bought["status"] == "executed"


def test_an_analyst_trades_neither_against_nor_ahead_of_their_own_research(
    person: People,
) -> None:
    lisa, tim = person("lisa.neumann"), person("tim.hartmann")
    note = {"issuer": "rheinbank", "headline": "Upside", "rating": "buy", "summary": "Fees."}
    drafted = lisa.start("research-publication", note)
    ahead = order(lisa, "rheinbank", "buy")
    assert (ahead["status"], ahead["code"]) == ("blocked", "pad.front_running")
    released(drafted, tim)
    against = order(lisa, "rheinbank", "sell")
    assert (against["status"], against["code"]) == ("blocked", "pad.against_recommendation")
    assert order(lisa, "rheinbank", "buy")["status"] == "executed"  # with the view: allowed
    assert order(tim, "rheinbank", "sell")["status"] == "executed"  # not Tim's note


def test_attestation_per_employee_and_quarter(person: People) -> None:
    felix, clara = person("felix.hoffmann"), person("clara.vogel")
    order(felix, "hansebank")
    today = timezone.now()
    quarter = {"year": today.year, "quarter": (today.month - 1) // 3 + 1}
    attested = felix.post("/walls/pad/attestations", quarter)
    assert (attested.status_code, attested.json()["orders"]) == (201, 1), attested.content
    problem(felix.post("/walls/pad/attestations", quarter), 422, "pad.invalid")
    future = {"year": today.year + 1, "quarter": 1}
    problem(felix.post("/walls/pad/attestations", future), 422, "pad.invalid")
    query = f"year={quarter['year']}&quarter={quarter['quarter']}"
    rows = {r["employee"]: r for r in clara.get(f"/walls/pad/attestation-report?{query}").json()}
    assert (rows["felix.hoffmann"]["orders"], rows["felix.hoffmann"]["executed"]) == (1, 1)
    assert rows["felix.hoffmann"]["attested_at"] is not None
    assert rows["anna.schmidt"]["attested_at"] is None  # compliance sees who is missing
    csv = clara.get(f"/walls/pad/attestation-report.csv?{query}")
    assert csv.status_code == 200 and b"felix.hoffmann" in csv.getvalue()
    problem(felix.get(f"/walls/pad/attestation-report?{query}"), 403, "wall.forbidden")


def test_bad_orders_are_refused_and_write_nothing(person: People) -> None:
    felix = person("felix.hoffmann")
    bad = felix.post("/walls/pad/orders", {"issuer": "nordbank", "side": "hold", "quantity": 1})
    problem(bad, 422, "pad.invalid")
    nobody = felix.post("/walls/pad/orders", {"issuer": "nobody", "side": "buy", "quantity": 1})
    problem(nobody, 422, "wall.unknown_issuer")
    assert not PadOrder.objects.exists()
