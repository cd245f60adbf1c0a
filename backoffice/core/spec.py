"""Building blocks every section of the policy file shares: strict specs, ids, money."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backoffice.core.money import Money

__all__ = ["Spec", "Key", "Permission", "Currency", "MoneySpec", "RoleSetConstraint"]

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


class RoleSetConstraint(Spec):
    """``(roles, n)`` over a set of roles, as NIST RBAC writes SSD and DSD."""

    KIND: ClassVar[str] = "a role-set"

    id: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: Annotated[list[Key], Field(min_length=2)]
    n: Annotated[int, Field(ge=2)] = 2
    description: str = ""

    @model_validator(mode="after")
    def _n_fits(self) -> Self:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError(f"{self.KIND} constraint names each role once")
        if self.n > len(self.roles):
            raise ValueError(f"n = {self.n} but the constraint names only {len(self.roles)} roles")
        return self
