"""Insider lists in the templates of Regulation (EU) 2016/347 (#17): the deal section with
each person's fields, the permanent insiders section, CSV and XLSX; every addition and
removal on the audit chain with its time."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from backoffice.audit.models import AuditEvent
from backoffice.core.insider_list import DEAL_FIELDS, PERMANENT_FIELDS
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, open_project


def test_the_insider_list_exports_in_the_regulations_templates(person: People) -> None:
    open_project(person)
    clara = person("clara.vogel")
    clara.post(
        "/walls/projects/project-falcon/members", {"person": "laura.lange", "reason": "structure"}
    )
    cross(person, "tim.hartmann")
    removed = clara.post(
        "/walls/projects/project-falcon/members/laura.lange/remove", {"reason": "off the deal"}
    )
    assert removed.status_code == 200, removed.content

    response = clara.get("/walls/projects/project-falcon/insider-list.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert lines[0] == ["Insider list: section related to Project Falcon (Nordbank AG)"]
    assert lines[4] == list(DEAL_FIELDS)
    deal = {line[1]: line for line in lines[5:8]}
    assert set(deal) == {"Schmitt", "Lange", "Hartmann"}
    assert deal["Lange"][0] == "Laura" and deal["Lange"][4] == "Musterbank AG"
    assert deal["Lange"][7].endswith(" UTC")  # ceased: when she was taken off
    assert deal["Schmitt"][7] == ""  # still an insider
    assert "approved by paula.schwarz" in deal["Hartmann"][5]
    gap = lines.index([])
    assert lines[gap + 1] == ["Insider list: permanent insiders"]
    assert lines[gap + 5] == list(PERMANENT_FIELDS)
    permanent = {line[1] for line in lines[gap + 6 :]}
    assert {"Vogel", "Schwarz", "Jung"} <= permanent and "Lange" not in permanent

    xlsx = clara.get("/walls/projects/project-falcon/insider-list.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Deal-specific section", "Permanent insiders"]
    sheet = [list(r) for r in book["Deal-specific section"].iter_rows(values_only=True)]
    assert list(sheet[4]) == list(DEAL_FIELDS)
    assert {r[1] for r in sheet[5:]} == {"Schmitt", "Lange", "Hartmann"}
    exported = AuditEvent.objects.filter(action="walls.insider_list.exported", actor="clara.vogel")
    assert sorted(e.after["format"] for e in exported) == ["csv", "xlsx"]

    problem(
        person("jan.schmitt").get("/walls/projects/project-falcon/insider-list.csv"),
        403,
        "wall.forbidden",
    )
    problem(
        person("tim.hartmann").get("/walls/projects/project-falcon/insider-list.xlsx"),
        403,
        "wall.forbidden",
    )
    assert (
        person("martin.jung").get("/walls/projects/project-falcon/insider-list.csv").status_code
        == 200
    )


def test_every_addition_and_removal_is_on_the_audit_chain_with_its_time(person: People) -> None:
    open_project(person)
    clara = person("clara.vogel")
    clara.post("/walls/projects/project-falcon/members", {"person": "laura.lange", "reason": "x"})
    clara.post("/walls/projects/project-falcon/members/laura.lange/remove", {"reason": "done"})
    problem(
        clara.post("/walls/projects/project-falcon/members/laura.lange/remove", {"reason": "x"}),
        404,
        "wall.not_found",
    )
    problem(
        person("jan.schmitt").post(
            "/walls/projects/project-falcon/members/jan.schmitt/remove", {"reason": "x"}
        ),
        403,
        "wall.forbidden",
    )
    added = AuditEvent.objects.filter(action="walls.insider.added", after__person="laura.lange")
    ended = AuditEvent.objects.filter(action="walls.insider.ended", after__person="laura.lange")
    assert added.get().after["since"] and ended.get().after["until"]
    assert added.get().seq < ended.get().seq
