"""Building blocks every section of the policy file shares: strict specs, ids, money."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backoffice.core.money import Money

__all__ = ["Spec", "Key", "Permission", "Currency", "MoneySpec"]

#: ids of units, people, roles, processes: lower case, digits, ".", "_", "-"
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Permission = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Spec(BaseModel):
    """A part of the policy as written: unknown keys are errors, nothing changes it later."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MoneySpec(Spec):
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
    currency: Currency

    def to_domain(self) -> Money:
        return Money(self.amount, self.currency)
