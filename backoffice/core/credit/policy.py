"""The ``credit:`` section of a policy file and its reference checks.

The Kompetenzordnung (levels, lowest first, each with a limit and a product scope; CR-3),
risk relevance (CR-1, CR-2's optional back-office vote), what dissent does (CR-4), the
committee (CR-5), the large-exposure limit (CR-7), cooling-off (COOL-1), the problem-loan
criteria (PROC-2), the rating scale (PROC-4), the provision significance limit (PROC-3) and
the review interval (PROC-5). ``credit_policy_problems`` and ``credit_process_problems``
find what pydantic cannot: unknown roles, products and people, levels out of order, a
highest level other than the unlimited full board, and a credit process without the steps
and fields the engine reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from backoffice.core.cooling import CoolingOffSpec
from backoffice.core.labels import Name
from backoffice.core.money import Money
from backoffice.core.payload import FieldType
from backoffice.core.processes import ExcludeSpec, ProcessSpec, StepAction, TierSpec
from backoffice.core.spec import Currency, Key, MoneySpec, Spec

LevelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]


class LevelKind(StrEnum):
    """Who decides at a level: one person holding its role, a board member, or a body."""

    INDIVIDUAL = "individual"
    BOARD = "board"
    COMMITTEE = "committee"
    FULL_BOARD = "full_board"

    @property
    def collective(self) -> bool:
        return self in (LevelKind.COMMITTEE, LevelKind.FULL_BOARD)


class LevelSpec(Spec):
    """One rung of the Kompetenzordnung (CR-3). Levels are listed lowest first."""

    id: LevelId
    name: Name
    kind: LevelKind = LevelKind.INDIVIDUAL
    #: individual and board levels: the role whose holders have this level
    role: Key | None = None
    #: the largest group exposure decided at this level; None: unlimited
    limit: MoneySpec | None = None
    #: products decided at this level; empty: every product
    products: list[Key] = []

    def covers(self, exposure: Money, product: str) -> bool:
        return self.covers_amount(exposure) and self.covers_product(product)

    def covers_amount(self, exposure: Money) -> bool:
        return self.limit is None or self.limit.to_domain().covers(exposure)

    def covers_product(self, product: str) -> bool:
        return not self.products or product in self.products


class ProductSpec(Spec):
    id: Key
    #: #19: may carry translations (``{en: Corporate loan, de: Firmenkredit}``)
    name: Name


class RiskRelevanceSpec(Spec):
    """CR-1: business is risk-relevant from ``threshold`` (group exposure) or by product."""

    threshold: MoneySpec
    always: list[Key] = []
    never: list[Key] = []
    #: the back office votes on non-risk-relevant business too (CR-2 allows asking for it)
    back_office_vote_always: bool = False


class CommitteeSpec(Spec):
    """CR-5: a credit committee; majority rules under which the back office is never outvoted."""

    name: Annotated[str, Field(min_length=1)] = "Credit committee"
    members: Annotated[list[Key], Field(min_length=2)]
    quorum: Annotated[int, Field(ge=2)]


class CriteriaSpec(Spec):
    """PROC-2: a credit meets the criteria at ``days_past_due`` or (if set) when forborne."""

    days_past_due: Annotated[int, Field(ge=1, le=3650)]
    forborne: bool = False


class ProblemLoansSpec(Spec):
    intensive_care: CriteriaSpec = CriteriaSpec(days_past_due=30, forborne=True)
    workout: CriteriaSpec = CriteriaSpec(days_past_due=90)


class CreditPolicy(Spec):
    """The ``credit:`` section of a policy file (see docs/credit.md)."""

    currency: Currency = "EUR"
    products: Annotated[list[ProductSpec], Field(min_length=1)]
    #: the rating master scale, best grade first (PROC-4)
    ratings: Annotated[list[Annotated[str, Field(min_length=1, max_length=8)]], Field(min_length=2)]
    risk_relevance: RiskRelevanceSpec
    on_dissent: Literal["reject", "escalate"] = "escalate"
    levels: Annotated[list[LevelSpec], Field(min_length=1)]
    committee: CommitteeSpec | None = None
    #: CR-7, §13 KWG: from this group exposure every board member must approve
    large_exposure_limit: MoneySpec | None = None
    cooling_off: CoolingOffSpec = CoolingOffSpec()
    problem_loans: ProblemLoansSpec = ProblemLoansSpec()
    #: PROC-3: provisions from this amount are significant
    provision_significance_limit: MoneySpec
    #: PROC-5: counterparty risk is reassessed at least this often
    review_months: Annotated[int, Field(ge=1, le=60)] = 12

    def level(self, level_id: str) -> LevelSpec:
        return next(lv for lv in self.levels if lv.id == level_id)

    def index(self, level_id: str) -> int:
        return next(i for i, lv in enumerate(self.levels) if lv.id == level_id)


def credit_policy_problems(
    policy: CreditPolicy, roles: set[str], people: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Reference problems of the credit section as ``(path inside it, message)``."""
    products = [p.id for p in policy.products]
    for index, product in enumerate(products):
        if product in products[:index]:
            yield ("products", index, "id"), f"duplicate product {product!r}"
    for key in ("always", "never"):
        for position, product in enumerate(getattr(policy.risk_relevance, key)):
            if product not in products:
                yield ("risk_relevance", key, position), f"unknown product {product!r}"
    for product in set(policy.risk_relevance.always) & set(policy.risk_relevance.never):
        yield ("risk_relevance", "never"), f"{product!r} cannot be both always and never"
    if len(set(policy.ratings)) != len(policy.ratings):
        yield ("ratings",), "duplicate grade in the rating scale"
    amounts: list[tuple[str | int, ...]] = [("risk_relevance", "threshold")]
    amounts += [("provision_significance_limit",)]
    if policy.large_exposure_limit is not None:
        amounts.append(("large_exposure_limit",))
    seen: list[str] = []
    previous: Money | None = None
    for index, level in enumerate(policy.levels):
        base: tuple[str | int, ...] = ("levels", index)
        if level.id in seen:
            yield (*base, "id"), f"duplicate level {level.id!r}"
        seen.append(level.id)
        if level.kind.collective:
            if level.role is not None:
                yield (*base, "role"), f"a {level.kind.value} level is not held through a role"
        elif level.role is None:
            yield (*base, "role"), "an individual or board level names the role that grants it"
        elif level.role not in roles:
            yield (*base, "role"), f"unknown role {level.role!r}"
        if level.kind == LevelKind.COMMITTEE and policy.committee is None:
            yield (*base, "kind"), "a committee level needs the 'committee' section"
        for position, product in enumerate(level.products):
            if product not in products:
                yield (*base, "products", position), f"unknown product {product!r}"
        if level.limit is not None:
            amounts.append((*base, "limit"))
            limit = level.limit.to_domain()
            if previous is not None and limit.amount <= previous.amount:
                yield (*base, "limit"), "levels are listed lowest first with rising limits"
            previous = limit
        elif index != len(policy.levels) - 1:
            yield (*base, "limit"), "only the last (highest) level may be unlimited"
    top = policy.levels[-1]
    if top.kind != LevelKind.FULL_BOARD or top.limit is not None or top.products:
        yield (
            ("levels", len(policy.levels) - 1),
            "the highest level must be the full board, unlimited and for every product, so "
            "every credit has someone who may decide it",
        )
    for path in amounts:
        money: Any = policy
        for part in path:
            money = money[part] if isinstance(part, int) else getattr(money, str(part))
        if money.currency != policy.currency:
            yield path, f"amounts are in the credit currency {policy.currency}"
    if policy.committee is not None:
        for position, person in enumerate(policy.committee.members):
            if person not in people:
                yield ("committee", "members", position), f"unknown person {person!r}"
        if policy.committee.quorum > len(policy.committee.members):
            yield ("committee", "quorum"), "the quorum exceeds the number of members"


#: The steps a credit process names: who may cast which vote (their ``who``), nothing else.
CREDIT_STEPS = {
    "market": "who may cast the market vote (first vote)",
    "back_office": "who may cast the back-office vote (second, market-independent vote)",
    "board": "which board members vote and decide as individuals",
    "control": "who does the processing control of decided cases (PROC-6)",
}


def credit_process_problems(
    process: ProcessSpec, policy: CreditPolicy | None
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """A credit process reads its steps as vote eligibility and needs borrower/product/amount."""
    if policy is None:
        yield ("engine",), "the credit engine needs the policy's 'credit' section"
        return
    ids = [s.id for s in process.steps]
    for index, step in enumerate(process.steps):
        if step.id not in CREDIT_STEPS:
            yield (
                ("steps", index, "id"),
                (f"the credit engine reads only steps {', '.join(CREDIT_STEPS)}"),
            )
        if (step.action, step.authority, step.tiers, step.exclude, step.when) != (
            StepAction.APPROVE,
            None,
            [TierSpec()],
            ExcludeSpec(),
            None,
        ):
            yield ("steps", index), "a credit step has only id, name and who"
    for required in ("market", "back_office"):
        if required not in ids:
            yield ("steps",), f"a credit process needs the step {required!r}"
    borrower = process.field("borrower")
    if borrower is None or borrower.type != FieldType.STRING:
        yield ("payload",), "a credit process needs a string field 'borrower'"
    product = process.field("product")
    if product is None or product.type != FieldType.CHOICE:
        yield ("payload",), "a credit process needs a choice field 'product'"
    elif sorted(product.choices) != sorted(p.id for p in policy.products):
        yield ("payload",), "the 'product' choices must be the credit section's products"
    amount = process.field(process.amount) if process.amount else None
    if amount is None or amount.type != FieldType.AMOUNT:
        yield ("amount",), "a credit process names its requested amount field in 'amount'"
    elif amount.currencies != [policy.currency]:
        yield ("amount",), f"the requested amount must be in {policy.currency} only"
