"""Amounts of money: a Decimal and an ISO 4217 currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from typing_extensions import override

__all__ = ["Money"]


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str

    def covers(self, other: Money) -> bool:
        """True if this limit is at least ``other``; a limit in another currency covers nothing.

        Backoffice does not convert currencies: a competence limit in EUR says nothing
        about a payment in USD, so that case is refused rather than guessed.
        """
        return self.currency == other.currency and self.amount >= other.amount

    @override
    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"
