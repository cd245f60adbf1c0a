"""People of the demo bank voting on credit cases through the API, with the demo borrowers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backoffice.credit.demo import credit_payload
from tests.cases.conftest import Person, problem

__all__ = ["Voter", "credit_payload", "problem"]


class Voter(Person):
    """A demo person who also votes and decides on credit cases."""

    def apply(
        self, borrower: str, amount: str, product: str = "corporate-loan", **extra: Any
    ) -> Any:
        return self.start("credit-decision", credit_payload(borrower, amount, product, **extra))

    def vote(self, case_id: int, decision: str = "approve", **body: Any) -> Any:
        body = {"rationale": f"{self.username} votes {decision}", **body}
        return self.post(f"/credit/cases/{case_id}/votes", {"decision": decision, **body})

    def decide(self, case_id: int, decision: str = "approve", **body: Any) -> Any:
        body = {"rationale": f"{self.username} decides {decision}", **body}
        return self.post(f"/credit/cases/{case_id}/decision", {"decision": decision, **body})

    def credit_case(self, case_id: int) -> dict[str, Any]:
        response = self.get(f"/credit/cases/{case_id}")
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def borrowers(demo_bank: Any) -> int:
    from backoffice.credit.demo import seed_borrowers

    return seed_borrowers(actor="test:setup")


@pytest.fixture
def voter(borrowers: int) -> Callable[[str], Voter]:
    return Voter


@pytest.fixture
def case(voter: Callable[[str], Voter]) -> Callable[..., int]:
    """A submitted credit case (by Lukas, a market officer who does not vote on it)."""

    def _case(
        amount: str = "2000000.00",
        borrower: str = "B000001",
        product: str = "corporate-loan",
        maker: str = "lukas.becker",
    ) -> int:
        response = voter(maker).apply(borrower, amount, product)
        assert response.status_code == 201, response.content
        return int(response.json()["id"])

    return _case
