"""#16: three-way match by the engine's tolerances against a straightforward reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backoffice.core.actors import ActorFacts
from backoffice.core.four_eyes import Command, CommandKind, Context, decide
from backoffice.core.payload import Known
from backoffice.core.policy import parse_policy
from backoffice.core.tolerance import within_tolerance
from tests.retail.conftest import RETAIL_POLICY

INVOICE = next(
    p
    for p in parse_policy(RETAIL_POLICY.read_bytes(), str(RETAIL_POLICY)).policy.processes
    if p.id == "invoice-match"
)
CLERK = ActorFacts(person="ralf.simon", permissions=frozenset({"invoice.enter"}))

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
quantities = st.integers(min_value=0, max_value=100_000)


def reference_match(
    order_qty: int, received: int, invoiced: int, order_price: Decimal, invoice_price: Decimal
) -> bool:
    """The rule as a controller states it, in exact fractions: the unit price may be off by
    2 % of the order's or 50 cents, whichever is more; the invoice bills exactly what was
    received; the receipt is within 5 % of the order."""
    price_off = abs(Fraction(invoice_price) - Fraction(order_price))
    price_ok = price_off <= max(Fraction(order_price) * Fraction(2, 100), Fraction(1, 2))
    quantity_ok = invoiced == received
    receipt_ok = abs(received - order_qty) <= Fraction(order_qty) * Fraction(5, 100)
    return price_ok and quantity_ok and receipt_ok


def payload(
    order_qty: int, received: int, invoiced: int, order_price: Decimal, invoice_price: Decimal
) -> dict[str, Any]:
    def eur(value: Decimal) -> dict[str, str]:
        return {"amount": f"{value:.2f}", "currency": "EUR"}

    return {
        "invoice_number": "RE-1",
        "vendor": "V10001",
        "order": 1,
        "orderer": "david.schreiber",
        "order_quantity": order_qty,
        "received_quantity": received,
        "invoice_quantity": invoiced,
        "order_price": eur(order_price),
        "invoice_price": eur(invoice_price),
        "amount": eur(max(invoice_price * invoiced, Decimal("0.01"))),
    }


def submitted_step(body: dict[str, Any]) -> str | None:
    """The step a submitted invoice waits at, as the engine decides it."""
    context = Context(today=date(2026, 12, 6), known=Known(people=frozenset({"david.schreiber"})))
    started = decide(None, Command(CommandKind.START, payload=body), CLERK, context, INVOICE)
    assert not hasattr(started, "code"), started
    submitted = decide(started.case, Command(CommandKind.SUBMIT), CLERK, context)  # type: ignore[union-attr]
    return submitted.case.step  # type: ignore[union-attr]


@st.composite
def invoices(draw: st.DrawFn) -> tuple[int, int, int, Decimal, Decimal]:
    order_qty = draw(quantities)
    # near the order most of the time, so both sides of each tolerance are explored
    received = draw(st.one_of(quantities, st.integers(-6, 6).map(lambda d: max(0, order_qty + d))))
    invoiced = draw(st.one_of(st.just(received), quantities))
    order_price = draw(cents)
    off = draw(st.one_of(cents, st.integers(-300, 300).map(lambda c: Decimal(c) / 100)))
    invoice_price = max(Decimal("0.01"), order_price + off)
    return order_qty, received, invoiced, order_price, invoice_price


@given(invoices())
def test_the_mismatch_step_applies_exactly_when_the_reference_finds_a_mismatch(
    invoice: tuple[int, int, int, Decimal, Decimal],
) -> None:
    expected = "approve" if reference_match(*invoice) else "mismatch"
    assert submitted_step(payload(*invoice)) == expected


@given(cents, cents, st.decimals(0, 100, places=2), st.decimals(0, 1000, places=2))
def test_within_tolerance_is_symmetric_in_the_deviation(
    value: Decimal, reference: Decimal, percent: Decimal, absolute: Decimal
) -> None:
    mirrored = reference - (value - reference)
    assert within_tolerance(value, reference, percent, absolute) == within_tolerance(
        mirrored, reference, percent, absolute
    )


def test_the_edges_of_the_price_tolerance() -> None:
    assert within_tolerance(Decimal("91.80"), Decimal("90.00"), Decimal(2), Decimal("0.50"))
    assert not within_tolerance(Decimal("91.81"), Decimal("90.00"), Decimal(2), Decimal("0.50"))
    # on a cheap item the 50 cents count, not the 2 %
    assert within_tolerance(Decimal("1.50"), Decimal("1.00"), Decimal(2), Decimal("0.50"))
    assert not within_tolerance(Decimal("1.51"), Decimal("1.00"), Decimal(2), Decimal("0.50"))


def test_a_missing_value_is_a_mismatch() -> None:
    body = payload(10, 10, 10, Decimal("5.00"), Decimal("5.00"))
    assert submitted_step(body) == "approve"
    from backoffice.core.tolerance import tolerance_variables

    del body["received_quantity"]
    verdicts = tolerance_variables(INVOICE.tolerances, INVOICE.payload, body)
    assert verdicts == {"price_ok": True, "quantity_ok": False, "receipt_ok": False}
