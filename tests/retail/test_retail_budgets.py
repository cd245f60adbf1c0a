"""#16: the master data and work-list pages and API lists stay within their statements,
the same for ten rows as for sixty (as tests/test_query_budgets.py does for the bank)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.services import do_start_case
from backoffice.masterdata.models import Vendor
from tests.retail.conftest import eur
from tests.test_query_budgets import client_of, statements

pytestmark = pytest.mark.django_db(transaction=True)


def fill(start: int, count: int) -> None:
    ralf = Actor(get_user_model().objects.get(username="ralf.simon"))
    david = Actor(get_user_model().objects.get(username="david.schreiber"))
    frank = Actor(get_user_model().objects.get(username="frank.albrecht"))
    for n in range(start, start + count):
        vendor = f"V{n:05d}"
        Vendor.objects.create(number=vendor, name=f"Vendor {n}", iban="DE02120300000000202051")
        do_start_case(
            david,
            "purchase-order",
            {
                "vendor": vendor,
                "item": "Pallets",
                "quantity": 4,
                "unit_price": eur("10.00"),
                "amount": eur("40.00"),
            },
            submit=True,
        ).raise_if_denied()
        do_start_case(
            ralf,
            "payment-run",
            {
                "vendor": vendor,
                "iban": "DE02120300000000202051",
                "amount": eur("40.00"),
                "value_date": "2026-12-15",
                "invoices": "RE-1",
            },
            submit=True,
        ).raise_if_denied()
        do_start_case(
            frank,
            "stock-write-off",
            {
                "location": "warehouse" if n % 2 else "shop-berlin-stock",
                "item": "Glass vases",
                "quantity": 1,
                "amount": eur("1.00"),
                "reason": "damaged",
            },
            submit=True,
        ).raise_if_denied()


@pytest.mark.parametrize(
    "path",
    [
        "/masterdata/vendors/",
        "/masterdata/reports/open-purchase-orders/",
        "/api/v1/masterdata/vendors",
        "/api/v1/masterdata/reports/open-purchase-orders",
        "/api/v1/masterdata/reports/recent-vendor-payments",
        "/masterdata/reports/invoices-waiting/",
        "/masterdata/reports/write-offs/",
        "/api/v1/masterdata/reports/write-offs",
    ],
)
def test_a_list_needs_at_most_12_statements_whatever_the_number_of_rows(
    demo_retail: Any, path: str
) -> None:
    fill(10000, 10)
    client = client_of("ute.beck")
    few = statements(lambda: client.get(path))
    fill(20000, 50)
    many = statements(lambda: client.get(path))
    assert few <= 12 and many == few
