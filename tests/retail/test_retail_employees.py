"""#16: released HR cases write the employee record — end to end through the API — and
nobody changes their own record or salary, even where a policy forgot to say so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from backoffice.audit.models import AuditEvent
from backoffice.masterdata.models import Employee
from tests.cases.conftest import problem
from tests.retail.conftest import RETAIL_POLICY
from tests.retail.test_retail_packs import released, salary, started


def employee(change: str, person: str = "ben.walter", **more: str) -> dict[str, Any]:
    return {"employee": person, "change": change, "effective": "2027-01-01", "details": ""} | more


def test_a_released_salary_change_is_the_employees_salary_audited(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    case = started(birgit.start("salary-change", salary("lea.schubert")))
    assert Employee.objects.get(person="lea.schubert").monthly_salary is None  # not yet
    released(heike.act(case["id"], "release"))
    lea = Employee.objects.get(person="lea.schubert")
    assert (lea.monthly_salary, str(lea.salary_effective)) == (Decimal("2650.00"), "2027-01-01")
    event = AuditEvent.objects.get(
        action="masterdata.employee.salary_changed", object_id=lea.number
    )
    assert (event.actor, event.before["monthly_salary"], event.after["monthly_salary"]) == (
        "heike.stein",
        None,
        "2650.00",
    )
    (row,) = [
        r
        for r in person("ute.beck").get("/masterdata/employees").json()
        if r["number"] == lea.number
    ]
    assert row["monthly_salary"] == "2650.00"


def test_a_salary_change_needs_an_employee_record(person: Any) -> None:
    problem(
        person("birgit.roth").start("salary-change", salary("paul.schenk")),
        422,
        "masterdata.unknown_employee",
    )


def test_released_employee_master_cases_write_the_record(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    new_iban = "DE89370400440532013000"

    def release(body: dict[str, Any]) -> None:
        case = started(birgit.start("employee-master", body))
        released(heike.act(case["id"], "release"))

    problem(birgit.start("employee-master", employee("bank-account")), 422, "payload.invalid")
    release(employee("bank-account", iban=new_iban))
    release(employee("position", details="Stock clerk, warehouse"))
    release(employee("leaver"))
    ben = Employee.objects.get(person="ben.walter")
    assert (ben.iban, ben.position, str(ben.leaving_date)) == (
        new_iban,
        "Stock clerk, warehouse",
        "2027-01-01",
    )
    changes = AuditEvent.objects.filter(
        action="masterdata.employee.changed", object_id=ben.number
    ).order_by("seq")
    assert [(e.actor, e.after) for e in changes][0] == ("heike.stein", {"iban": new_iban})


def test_a_hire_creates_the_record_other_changes_need_one(person: Any) -> None:
    birgit, heike = person("birgit.roth"), person("heike.stein")
    problem(
        birgit.start("employee-master", employee("address", "paul.schenk", details="Ring 1")),
        422,
        "masterdata.unknown_employee",
    )
    case = started(birgit.start("employee-master", employee("hire", "paul.schenk")))
    assert not Employee.objects.filter(person="paul.schenk").exists()  # not before release
    released(heike.act(case["id"], "release"))
    paul = Employee.objects.get(person="paul.schenk")
    assert (paul.name, str(paul.hired), paul.number) == ("Paul Schenk", "2027-01-01", "E00006")


def without_self_exclusion() -> bytes:
    """The retail policy as if its author forgot that HR and payroll cases exclude the
    employee concerned (starter and release step)."""
    text = RETAIL_POLICY.read_text()
    for line in (
        "    starter_excludes: [employee]\n",
        "        exclude: {beneficiaries: [employee]}\n",
    ):
        assert line in text
        text = text.replace(line, "")
    return text.encode()


def test_nobody_changes_their_own_salary_even_when_the_policy_forgot_to_say_so(
    person: Any,
) -> None:
    from backoffice.org.services import apply_policy

    apply_policy(without_self_exclusion(), "forgetful.yaml", actor="test:setup")
    birgit, heike = person("birgit.roth"), person("heike.stein")
    problem(birgit.start("salary-change", salary("birgit.roth")), 403, "sod.beneficiary")
    problem(
        birgit.start(
            "employee-master",
            employee("bank-account", "birgit.roth", iban="DE02120300000000202051"),
        ),
        403,
        "sod.beneficiary",
    )
    case = started(birgit.start("salary-change", salary("heike.stein")))
    problem(heike.act(case["id"], "release"), 403, "sod.beneficiary")
    assert Employee.objects.get(person="heike.stein").monthly_salary is None
    assert AuditEvent.objects.filter(
        action="case.denied", actor="heike.stein", object_id=str(case["id"])
    ).exists()
    released(person("michael.brandt").act(case["id"], "release"))
    assert Employee.objects.get(person="heike.stein").monthly_salary == Decimal("2650.00")
