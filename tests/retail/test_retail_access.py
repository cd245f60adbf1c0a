"""#16: the retail demo's access-risk analysis (``sod analyze --live``) finds a known set of
conflicts, each one explained in docs/retail.md; what-if works on the same rule set."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from backoffice.sod_cli import sod_analyze
from tests.conftest import ROOT

#: (person, risk, level): every conflict the demo retailer's bootstrap grants hold, and why
#: each is there (docs/retail.md, "Known conflicts").
KNOWN_CONFLICTS = {
    ("anja.krause", "refund-entry-approval", "high"),  # head of sales also enters refunds
    ("sandra.kaiser", "refund-entry-approval", "high"),  # shop manager at the till
    ("sandra.kaiser", "price-override-approval", "medium"),
    ("nadine.busch", "vendor-invoice", "high"),  # AP clerk keeps vendor master data
    ("nadine.busch", "invoice-entry-approval", "medium"),  # AP team of two
    ("ralf.simon", "invoice-entry-approval", "medium"),
    ("carina.wolff", "journal-entry-posting", "medium"),  # GL team of two
    ("dirk.lehmann", "journal-entry-posting", "medium"),
    ("carina.wolff", "reconcile-adjust", "medium"),
    ("dirk.lehmann", "reconcile-adjust", "medium"),
    ("sven.graf", "billing-cash", "medium"),  # one AR clerk
    ("ute.beck", "vendor-release-payment", "low"),  # cooling-off is the control
}


def analyse(tmp_path: Path) -> set[tuple[str, str, str]]:
    out = tmp_path / "violations.csv"
    argv = ["--live", "--as-of", date(2026, 12, 6).isoformat(), "--out", str(out)]
    assert sod_analyze(argv, io.StringIO()) == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["mitigated"] == "false" for row in rows)
    return {(row["user_id"], row["risk_id"], row["level"]) for row in rows}


def test_the_analysis_of_the_retail_demo_finds_exactly_the_known_conflicts(
    demo_retail: Any, tmp_path: Path
) -> None:
    assert analyse(tmp_path) == KNOWN_CONFLICTS


def test_no_known_conflict_is_critical_and_every_one_is_explained_in_the_docs(
    demo_retail: Any,
) -> None:
    docs = (ROOT / "docs" / "retail.md").read_text()
    for person, risk, level in KNOWN_CONFLICTS:
        assert level != "critical"
        assert f"`{risk}`" in docs and person in docs, (person, risk)


def test_a_role_grant_that_would_let_an_ap_clerk_pay_is_refused_by_the_ssd_constraint(
    demo_retail: Any,
) -> None:
    from tests.cases.conftest import Person, problem

    body = {
        "beneficiary": "ralf.simon",
        "role": "payment-releaser",
        "valid_from": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "justification": "Holiday cover",
    }
    body = problem(Person("lars.neumann").start("role-grant", body), 403, "access.ssd")
    assert "ssd-purchase-to-pay" in body["detail"]


def test_what_if_and_a_mitigation_work_on_the_retail_rules_unchanged(
    demo_retail: Any, tmp_path: Path
) -> None:
    """Olga (internal audit) asks what a role would add, then a mitigation clears a known
    conflict: the analysis lists it as mitigated."""
    from tests.cases.conftest import Person

    olga, katrin = Person("olga.fuchs"), Person("katrin.vogt")
    answer = olga.post(
        "/access/simulate", {"person": "kevin.maurer", "add_roles": ["sales-head"]}
    ).json()
    assert answer["verdict"] == "second_level" and answer["unmitigated_risk"] == "high"
    assert [r["risk"] for r in answer["gained"]] == ["refund-entry-approval"]
    critical = olga.post("/access/simulate", {"person": "nadine.busch", "add_roles": ["buyer"]})
    assert critical.json()["verdict"].startswith("access.")  # order and invoice: refused
    body = {
        "person": "sven.graf",
        "risk": "billing-cash",
        "control": "AR-REVIEW-1",
        "description": "Ute Beck reviews open items and cash applied every month.",
        "owner": "ute.beck",
        "monitor": "olga.fuchs",
        "valid_until": "2027-06-30",
    }
    case = katrin.start("mitigation", body).json()
    assert olga.act(case["id"], "release").json()["status"] == "released"
    out = tmp_path / "violations.csv"
    # the bank's own today (Europe/Berlin), the day the mitigation starts: a fixed date
    # failed from the day after it was written, and after 23:00 UTC on the day itself
    argv = ["--live", "--as-of", timezone.localdate().isoformat(), "--out", str(out)]
    assert sod_analyze(argv, io.StringIO()) == 0
    with out.open(newline="") as handle:
        rows = {(r["user_id"], r["risk_id"]): r["mitigated"] for r in csv.DictReader(handle)}
    assert rows[("sven.graf", "billing-cash")] == "true"
