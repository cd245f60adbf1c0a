"""#19 defect 13: a credit's product is shown by its name in the reader's language, on the
case page, its form and the risk report, never as its id (``corporate-loan``); the id stays
what is stored and exported."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from backoffice.core.payload import FieldSpec
from backoffice.credit.models import CreditDecision
from tests.web.test_pages import as_user


@pytest.fixture
def credits(demo_bank: Any) -> CreditDecision:
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    decision = CreditDecision.objects.filter(product="corporate-loan").order_by("pk").first()
    assert decision is not None
    return decision


def visible(html: str) -> str:
    return re.sub(r"<(script|style|option|select)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)


@pytest.mark.parametrize(("language", "name"), [("en", "Corporate loan"), ("de", "Firmenkredit")])
def test_the_credit_case_page_names_the_product(
    credits: CreditDecision, language: str, name: str
) -> None:
    page = as_user("max.weber", language).get(f"/cases/{credits.case_id}/").content.decode()
    text = visible(page)
    assert name in text
    assert "corporate-loan" not in text


def test_the_start_form_offers_products_by_name_and_keeps_the_id(demo_bank: Any) -> None:
    page = as_user("anna.schmidt", "de").get("/cases/new/credit-decision/").content.decode()
    assert re.search(r'<option value="corporate-loan"[^>]*>Firmenkredit</option>', page)


def test_the_risk_report_names_the_product_and_its_csv_keeps_the_id(
    credits: CreditDecision,
) -> None:
    client = as_user("max.weber", "de")
    page = client.get("/credit/register/").content.decode()
    assert "Firmenkredit" in visible(page) and "corporate-loan" not in visible(page)
    response = client.get("/api/v1/credit/register?format=csv")
    csv = b"".join(response.streaming_content).decode()
    assert "corporate-loan" in csv


def test_a_label_for_a_value_that_is_no_choice_is_refused() -> None:
    with pytest.raises(ValidationError, match="'loan', which is not a choice"):
        FieldSpec.model_validate(
            {
                "name": "product",
                "type": "choice",
                "choices": ["mortgage"],
                "choice_labels": {"loan": {"en": "Loan", "de": "Kredit"}},
            }
        )
