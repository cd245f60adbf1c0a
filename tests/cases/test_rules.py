"""Every denial code through the API, and the ground rules: 404 for what you may not see,
a denial changes nothing but its record, idempotent retries, the inbox, delegations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case, CaseEvent, Delegation
from backoffice.core.errors import FORM_ERRORS
from backoffice.core.four_eyes import DENIAL_CODES
from tests.cases.conftest import Person, payment, problem

TODAY = timezone.localdate()


def started(
    person: Callable[[str], Person],
    amount: str = "2500.00",
    maker: str = "anna.schmidt",
    **extra: Any,
) -> dict[str, Any]:
    response = person(maker).start("payment-release", payment(amount, **extra))
    assert response.status_code == 201, response.content
    return response.json()


def delegate(principal: Person, substitute: str, days: int = 5) -> Any:
    return principal.post(
        "/delegations",
        {
            "substitute": substitute,
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=days)),
        },
    )


# Each scenario returns the response of the refused request; the table is the specification.
def wrong_state(p: Callable[[str], Person]) -> Any:
    case = started(p)
    p("lena.schulz").act(case["id"], "release")
    return p("maria.keller").act(case["id"], "release")


def not_maker(p: Callable[[str], Person]) -> Any:
    return p("lena.schulz").act(started(p)["id"], "withdraw")


def not_startable(p: Callable[[str], Person]) -> Any:
    return p("tim.hartmann").start("payment-release", payment())


def invalid_payload(p: Callable[[str], Person]) -> Any:
    return p("anna.schmidt").start("payment-release", payment(iban="DE00 0000 0000 0000 0000 00"))


def changed_payload(p: Callable[[str], Person]) -> Any:
    return p("lena.schulz").act(started(p)["id"], "release", payload_hash="0" * 64)


def not_eligible(p: Callable[[str], Person]) -> Any:
    return p("martin.jung").act(started(p)["id"], "release")  # the auditor reads, never releases


def wrong_action(p: Callable[[str], Person]) -> Any:
    return p("lena.schulz").act(started(p)["id"], "approve")


def self_approval(p: Callable[[str], Person]) -> Any:
    # Lena holds both payment-clerk and payment-releaser: she may enter and release, never both
    return p("lena.schulz").act(started(p, maker="lena.schulz")["id"], "release")


def already_approved(p: Callable[[str], Person]) -> Any:
    case = started(p, "20000.00")
    p("lena.schulz").act(case["id"], "release")
    return p("lena.schulz").act(case["id"], "release")


def prior_step_actor(p: Callable[[str], Person]) -> Any:
    from backoffice.masterdata.models import Customer

    Customer.objects.create(number="C000001", name="Korn", iban="DE02120300000000202051")
    case = (
        p("paul.meyer")
        .start(
            "master-data-change",
            {
                "customer": "C000001",
                "field": "iban",
                "new_value": "DE89370400440532013000",
                "reason": "x",
            },
        )
        .json()
    )
    p("lena.schulz").act(case["id"], "approve")
    return p("lena.schulz").act(case["id"], "release")


def line_excluded(p: Callable[[str], Person]) -> Any:
    from backoffice.masterdata.models import Customer

    Customer.objects.create(number="C000002", name="Korn", phone="+49 1")
    julia = get_user_model().objects.get(username="julia.wagner")  # market
    RoleAssignment.objects.create(
        user=julia, role=Role.objects.get(key="master-data-releaser"), valid_from=date(2020, 1, 1)
    )
    case = (
        p("paul.meyer")
        .start(
            "master-data-change",
            {"customer": "C000002", "field": "phone", "new_value": "+49 69 1", "reason": "x"},
        )
        .json()
    )
    return p("julia.wagner").act(case["id"], "release")


def beneficiary(p: Callable[[str], Person]) -> Any:
    return p("lena.schulz").act(started(p, beneficiary="lena.schulz")["id"], "release")


def limit_exceeded(p: Callable[[str], Person]) -> Any:
    return p("eva.hahn").act(started(p, "600000.00")["id"], "release")  # Eva's limit is 500,000


def board_required(p: Callable[[str], Person]) -> Any:
    case = started(p, "1500000.00")
    p("sophie.krueger").act(case["id"], "release")
    return p("maria.keller").act(case["id"], "release")


def delegation_invalid(p: Callable[[str], Person]) -> Any:
    return p("martin.jung").act(started(p)["id"], "release", on_behalf_of="lena.schulz")


def delegation_access_risk(p: Callable[[str], Person]) -> Any:
    """#13: a delegation from before the rule: anna.schmidt enters payments; releasing one
    for sophie.krueger would give her payment entry and release (high)."""
    users = get_user_model().objects
    Delegation.objects.create(
        principal=users.get(username="sophie.krueger"),
        substitute=users.get(username="anna.schmidt"),
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=5),
        created_by="legacy",
    )
    case = started(p, maker="lukas.becker")
    return p("anna.schmidt").act(case["id"], "release", on_behalf_of="sophie.krueger")


def comment_required(p: Callable[[str], Person]) -> Any:
    return p("lena.schulz").act(started(p)["id"], "reject")


DENIALS: list[tuple[str, int, Callable[[Callable[[str], Person]], Any]]] = [
    ("case.wrong_state", 409, wrong_state),
    ("case.not_maker", 403, not_maker),
    ("process.not_startable", 422, not_startable),
    ("payload.invalid", 422, invalid_payload),
    ("payload.changed", 409, changed_payload),
    ("step.not_eligible", 403, not_eligible),
    ("step.wrong_action", 403, wrong_action),
    ("sod.self_approval", 403, self_approval),
    ("sod.already_approved", 403, already_approved),
    ("sod.prior_step_actor", 403, prior_step_actor),
    ("sod.line_excluded", 403, line_excluded),
    ("sod.beneficiary", 403, beneficiary),
    ("authority.limit_exceeded", 403, limit_exceeded),
    ("authority.board_required", 403, board_required),
    ("delegation.invalid", 422, delegation_invalid),
    ("delegation.access_risk", 403, delegation_access_risk),
    ("comment.required", 422, comment_required),
]

#: Codes the API cannot produce, each covered by tests/unit/test_four_eyes.py instead.
CORE_ONLY = {
    "actor.inactive": "an inactive account cannot authenticate at all",
    "process.aggregate_unknown": "the cases services always gather the sum (#13)",
    "process.maintainers_unknown": "the cases services always gather the maintainers (#16)",
}

#: #16: rules the demo bank's processes do not use; the retailer's reach them through the
#: API (tests/retail/test_retail_packs.py)
RETAIL_ONLY = {
    "sod.cooling_off": "test_whoever_maintained_a_vendor_may_not_pay_it_for_30_days",
    "sod.responsible": "test_nobody_counts_the_stock_they_answer_for",
}


def test_every_denial_code_of_the_core_is_reached_through_the_api() -> None:
    reached = {code for code, _, _ in DENIALS} | set(CORE_ONLY) | set(RETAIL_ONLY)
    assert reached == set(DENIAL_CODES)


@pytest.mark.parametrize(("code", "status", "scenario"), DENIALS, ids=[d[0] for d in DENIALS])
def test_denial(
    person: Callable[[str], Person],
    code: str,
    status: int,
    scenario: Callable[[Callable[[str], Person]], Any],
) -> None:
    body = problem(scenario(person), status, code)
    assert body["detail"] and body["type"] == f"urn:backoffice:problem:{code}"
    # every denial is audited; incomplete input is no refusal and is not recorded (#19)
    assert AuditEvent.objects.filter(after__code=code).exists() == (code not in FORM_ERRORS)


def test_a_denial_changes_nothing_but_its_record(person: Callable[[str], Person]) -> None:
    case = started(person)
    before = Case.objects.get(pk=case["id"])
    problem(person("anna.schmidt").act(case["id"], "release"), 403, "step.not_eligible")
    after = Case.objects.get(pk=case["id"])
    assert (after.status, after.version, after.payload_hash) == (
        before.status,
        before.version,
        before.payload_hash,
    )
    denial = CaseEvent.objects.filter(case_id=case["id"]).last()
    assert denial is not None and denial.kind == "denied"
    assert denial.data["code"] == "step.not_eligible"
    timeline = person("anna.schmidt").get(f"/cases/{case['id']}").json()["timeline"]
    assert timeline[-1]["denial"]["code"] == "step.not_eligible"


def test_a_case_you_may_not_see_is_404_like_one_that_does_not_exist(
    person: Callable[[str], Person],
) -> None:
    case = started(person)
    tim = person("tim.hartmann")  # research: nothing to do with payments
    assert problem(tim.get(f"/cases/{case['id']}"), 404, "case.not_found")["detail"] == (
        problem(tim.get("/cases/999999"), 404, "case.not_found")["detail"].replace(
            "999999", str(case["id"])
        )
    )
    problem(tim.act(case["id"], "release"), 404, "case.not_found")
    # the auditor reads every case
    assert person("martin.jung").get(f"/cases/{case['id']}").status_code == 200


def test_the_case_says_which_actions_the_caller_may_take_and_why_not(
    person: Callable[[str], Person],
) -> None:
    case = started(person)
    mine = {
        a["action"]: a for a in person("anna.schmidt").get(f"/cases/{case['id']}").json()["actions"]
    }
    assert mine["withdraw"]["allowed"] and mine["comment"]["allowed"]
    assert not mine["release"]["allowed"] and mine["release"]["code"] == "step.not_eligible"
    hers = {
        a["action"]: a for a in person("lena.schulz").get(f"/cases/{case['id']}").json()["actions"]
    }
    assert hers["release"]["allowed"] and hers["return"]["allowed"] and hers["reject"]["allowed"]
    assert hers["approve"]["code"] == "step.wrong_action"
    assert hers["withdraw"]["code"] == "case.not_maker"


def test_returned_for_correction_amended_and_approvals_count_only_for_what_they_saw(
    person: Callable[[str], Person],
) -> None:
    anna, maria, lena = person("anna.schmidt"), person("maria.keller"), person("lena.schulz")
    case = started(person, "25000.00")
    first = maria.act(case["id"], "release").json()
    problem(
        anna.patch(f"/cases/{case['id']}", {"payload": payment("26000.00")}),
        409,
        "case.wrong_state",
    )
    lena.act(case["id"], "return", comment="amount differs from the invoice")
    amended = anna.patch(
        f"/cases/{case['id']}", {"payload": payment("26000.00"), "comment": "fixed"}
    )
    assert amended.status_code == 200 and amended.json()["status"] == "returned"
    resubmitted = anna.act(case["id"], "submit").json()
    assert resubmitted["approvals"]["given"] == 0  # Maria's approval covered 25,000, not 26,000
    approvals = [e for e in resubmitted["timeline"] if e["kind"] == "approved"]
    assert approvals[0]["payload_hash"] == first["payload_hash"]
    assert not approvals[0]["covers_current_payload"]
    maria.act(case["id"], "release")
    assert lena.act(case["id"], "release").json()["status"] == "released"


def test_an_approval_does_not_come_back_when_the_payload_is_changed_back(
    person: Callable[[str], Person],
) -> None:
    """#13: Maria approved payload A; the case was returned, changed to B, returned and
    changed back to A. Her approval belongs to the first round and counts no more."""
    anna, maria, lena = person("anna.schmidt"), person("maria.keller"), person("lena.schulz")
    case = started(person, "25000.00")  # 2 releasers from 10,000
    assert maria.act(case["id"], "release").json()["approvals"]["given"] == 1
    lena.act(case["id"], "return", comment="amount differs from the invoice")
    assert anna.patch(f"/cases/{case['id']}", {"payload": payment("26000.00")}).status_code == 200
    anna.act(case["id"], "submit")
    lena.act(case["id"], "return", comment="the first amount was right after all")
    back = anna.patch(f"/cases/{case['id']}", {"payload": payment("25000.00")})
    assert back.json()["payload_hash"] == case["payload_hash"]  # A again
    resubmitted = anna.act(case["id"], "submit").json()
    assert resubmitted["approvals"]["given"] == 0
    marias = next(e for e in resubmitted["timeline"] if e["kind"] == "approved")
    assert marias["covers_current_payload"] and not marias["counts"]
    assert b"(earlier round)" in anna.client.get(f"/cases/{case['id']}/").content
    after_lena = lena.act(case["id"], "release").json()
    assert after_lena["status"] == "submitted"  # one release in this round is not enough
    assert [e["counts"] for e in after_lena["timeline"] if e["kind"] == "approved"] == [
        False,
        True,
    ]
    assert maria.act(case["id"], "release").json()["status"] == "released"


def test_an_idempotent_retry_returns_the_first_response_and_acts_once(
    person: Callable[[str], Person],
) -> None:
    case = started(person)
    lena = person("lena.schulz")
    first = lena.post(
        f"/cases/{case['id']}/actions", {"action": "release"}, **{"Idempotency-Key": "k-1"}
    )
    again = lena.post(
        f"/cases/{case['id']}/actions", {"action": "release"}, **{"Idempotency-Key": "k-1"}
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert CaseEvent.objects.filter(case_id=case["id"], kind="released").count() == 1
    reused = lena.post(
        f"/cases/{case['id']}/actions",
        {"action": "reject", "comment": "x"},
        **{"Idempotency-Key": "k-1"},
    )
    problem(reused, 422, "idempotency.key_reused")
    # a denial is a response too: the retry gets the same denial, and it is recorded once
    anna = person("anna.schmidt")
    denied = anna.post(
        f"/cases/{case['id']}/actions", {"action": "withdraw"}, **{"Idempotency-Key": "k-2"}
    )
    replayed = anna.post(
        f"/cases/{case['id']}/actions", {"action": "withdraw"}, **{"Idempotency-Key": "k-2"}
    )
    assert problem(denied, 409, "case.wrong_state") == problem(replayed, 409, "case.wrong_state")
    assert CaseEvent.objects.filter(case_id=case["id"], kind="denied").count() == 1


def test_a_retry_before_the_answer_is_stored_gets_it_built_anew(
    person: Callable[[str], Person],
) -> None:
    """#14: the answer is stored after the command commits; a retry in between (or after a
    crash in between) gets the case as it is, and the command is not done twice."""
    from backoffice.base.models import IdempotencyRecord

    case = started(person)
    lena = person("lena.schulz")
    first = lena.post(
        f"/cases/{case['id']}/actions", {"action": "release"}, **{"Idempotency-Key": "k-3"}
    )
    IdempotencyRecord.objects.filter(key="k-3").update(
        response={"$answer-pending": {"case": case["id"]}}
    )
    again = lena.post(
        f"/cases/{case['id']}/actions", {"action": "release"}, **{"Idempotency-Key": "k-3"}
    )
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CaseEvent.objects.filter(case_id=case["id"], kind="released").count() == 1


def test_inbox_lists_what_i_may_act_on_oldest_first(person: Callable[[str], Person]) -> None:
    a = started(person, "100.00")
    b = started(person, "2000000.00")
    own = started(person, "300.00", maker="lena.schulz")
    lena = person("lena.schulz").get("/cases?actionable=true").json()["items"]
    assert [c["id"] for c in lena] == [a["id"], b["id"]]  # not her own case
    eva = person("eva.hahn").get("/cases?actionable=true").json()["items"]  # limit 500,000
    assert [c["id"] for c in eva] == [a["id"], own["id"]]
    mine = person("anna.schmidt").get("/cases?mine=true").json()["items"]
    assert [c["id"] for c in mine] == [a["id"], b["id"]]
    assert person("anna.schmidt").get("/cases?actionable=true").json()["items"] == []


def test_cursor_pagination_of_the_case_list(person: Callable[[str], Person]) -> None:
    ids = [started(person, f"{100 + i}.00")["id"] for i in range(5)]
    auditor = person("martin.jung")
    page = auditor.get("/cases?limit=2").json()
    seen = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        page = auditor.get(f"/cases?limit=2&cursor={page['next_cursor']}").json()
        seen += [c["id"] for c in page["items"]]
    assert seen == ids


def test_a_substitute_releases_for_an_absent_colleague(person: Callable[[str], Person]) -> None:
    lena, jonas = person("lena.schulz"), person("jonas.fischer")
    assert delegate(lena, "jonas.fischer").status_code == 201
    case = started(person)
    inbox = jonas.get("/cases?actionable=true").json()["items"]
    assert [c["id"] for c in inbox] == [case["id"]]
    problem(jonas.act(case["id"], "release"), 403, "step.not_eligible")  # not as himself
    done = jonas.act(case["id"], "release", on_behalf_of="lena.schulz").json()
    assert done["status"] == "released"
    approved = next(e for e in done["timeline"] if e["kind"] == "approved")
    assert (approved["actor"], approved["on_behalf_of"]) == ("jonas.fischer", "lena.schulz")
    audit = AuditEvent.objects.get(action="case.approved", object_id=str(case["id"]))
    assert (audit.actor, audit.on_behalf_of) == ("jonas.fischer", "lena.schulz")


def test_delegation_rules(person: Callable[[str], Person]) -> None:
    lena, jonas = person("lena.schulz"), person("jonas.fischer")
    problem(delegate(lena, "lena.schulz"), 422, "delegation.invalid")
    problem(delegate(lena, "nobody.here"), 422, "delegation.invalid")
    assert delegate(lena, "jonas.fischer").status_code == 201
    problem(delegate(jonas, "lena.schulz"), 403, "delegation.loop")
    given = lena.get("/delegations").json()
    assert [(d["principal"], d["substitute"], d["ended"]) for d in given] == [
        ("lena.schulz", "jonas.fischer", False)
    ]
    problem(jonas.post(f"/delegations/{given[0]['id']}/end", {}), 403, "delegation.not_found")
    assert lena.post(f"/delegations/{given[0]['id']}/end", {}).json()["ended"] is True
