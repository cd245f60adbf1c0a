"""#19 exports: the CR-6 risk report and the audit trail's verification result as PDF, with
the page's rows, in the reader's language, refused exactly as the page is, and on the record.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from backoffice.audit.models import AuditEvent
from backoffice.credit.models import CreditDecision
from tests.web.test_pages import as_user

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Export contracts of five years cover the debt service twice."


def pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def credits(demo_bank: Any) -> list[int]:
    """The demo credits; the CR-6 flagged ones' case numbers."""
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    flagged = CreditDecision.objects.filter(
        deviating_decision=True
    ) | CreditDecision.objects.filter(back_office_board_decision=True)
    cases = sorted(flagged.values_list("case_id", flat=True))
    assert cases  # the demo flags at least one decision
    return cases


RISK_REPORT = "/credit/risk-report/?format=pdf&start=2000-01-01&end=2099-12-31"


def test_the_risk_report_pdf_holds_every_flagged_case_and_the_cr6_justification(
    credits: list[int],
) -> None:
    client = as_user("clara.vogel", language="en")
    text = pdf_text(client.get(RISK_REPORT))
    for case in credits:
        assert f"#{case}" in text
    assert JUSTIFICATION in " ".join(text.split())
    assert "Musterbank AG" in text  # the header
    assert "Risk report" in text and "Justification against the back-office vote" in text
    assert re.search(r"Page 1 of \d", text)  # the footer
    assert "Generated at" in text and "clara.vogel" in text


def test_the_risk_report_page_offers_the_pdf_beside_csv_and_xlsx(credits: list[int]) -> None:
    html = as_user("clara.vogel", language="en").get("/credit/risk-report/").content.decode()
    assert "Download as XLSX" in html
    assert re.search(
        r'href="/credit/risk-report/\?format=pdf&amp;start=[\d-]+&amp;end=[\d-]+"', html
    )


def test_the_risk_report_pdf_speaks_german(credits: list[int]) -> None:
    text = pdf_text(as_user("clara.vogel", language="de").get(RISK_REPORT))
    assert "Risikobericht" in text
    assert "Begründung der Abweichung vom Marktfolgevotum" in text
    assert "Justification against the back-office vote" not in text


def test_the_risk_report_pdf_is_on_the_audit_trail(credits: list[int]) -> None:
    as_user("clara.vogel", language="en").get(RISK_REPORT)
    event = AuditEvent.objects.get(action="credit.risk_report.exported")
    assert event.actor == "clara.vogel"
    assert event.after["format"] == "pdf"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_risk_report_as_csv_or_xlsx_is_on_the_audit_trail_too(
    credits: list[int], file_format: str
) -> None:
    """The page's other downloads take the same rows out of the system: on record as well,
    with the period; reading a page of JSON is not an export."""
    client = as_user("clara.vogel", language="en")
    api = "/api/v1/credit/risk-report?start=2000-01-01&end=2099-12-31"
    assert client.get(api).status_code == 200
    assert not AuditEvent.objects.filter(action="credit.risk_report.exported").exists()
    response = client.get(f"{api}&format={file_format}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body  # the rows, with their header
    event = AuditEvent.objects.get(action="credit.risk_report.exported")
    assert event.actor == "clara.vogel"
    assert event.after == {"format": file_format, "start": "2000-01-01", "end": "2099-12-31"}


def test_who_may_not_read_the_risk_report_gets_403_and_no_pdf(credits: list[int]) -> None:
    response = as_user("anna.schmidt", language="en").get(RISK_REPORT)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert not response.content.startswith(b"%PDF")
    assert not AuditEvent.objects.filter(action="credit.risk_report.exported").exists()
    api = "/api/v1/credit/risk-report?format=csv"
    assert as_user("anna.schmidt", language="en").get(api).status_code == 403
    assert not AuditEvent.objects.filter(action="credit.risk_report.exported").exists()


VERIFY = "/audit/verify/?format=pdf"


def test_the_verification_pdf_says_the_chain_is_intact_and_how_far(demo_bank: Any) -> None:
    client = as_user("martin.jung", language="en")
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    text = pdf_text(client.post(VERIFY))
    found = re.search(r"Intact: (\d+) events verified up to #(\d+)\.", text)
    assert found is not None, text
    assert (
        int(found[2]) == head and int(found[1]) == AuditEvent.objects.filter(seq__lte=head).count()
    )
    assert "Musterbank AG" in text
    event = AuditEvent.objects.get(action="audit.verification.exported")
    assert event.actor == "martin.jung" and event.after["intact"] is True
    assert event.after["head_seq"] == head


def test_the_verification_pdf_speaks_german(demo_bank: Any) -> None:
    text = pdf_text(as_user("martin.jung", language="de").post(VERIFY))
    assert "Unverändert:" in text and "Hash des letzten Ereignisses" in text


def test_who_may_not_read_the_trail_gets_403_and_no_verification_pdf(demo_bank: Any) -> None:
    response = as_user("anna.schmidt", language="en").post(VERIFY)
    assert response.status_code == 403
    assert not response.content.startswith(b"%PDF")
    assert not AuditEvent.objects.filter(action="audit.verification.exported").exists()
