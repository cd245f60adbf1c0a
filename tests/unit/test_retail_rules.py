"""#16: the engine's generic rules the retailer needs, decided purely (no database)."""

from __future__ import annotations

from datetime import date
from typing import Any

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.four_eyes import Accepted, Command, CommandKind, Context, decide
from backoffice.core.payload import Known
from backoffice.core.processes import ProcessSpec

PAYMENT = ProcessSpec.model_validate(
    {
        "id": "payment-run",
        "name": "Payment run",
        "starter": {"permissions": ["payment.propose"]},
        "amount": "amount",
        "payload": [
            {"name": "vendor", "type": "string"},
            {"name": "amount", "type": "amount"},
        ],
        "steps": [
            {
                "id": "release",
                "name": "Release",
                "action": "release",
                "who": {"permissions": ["payment.release"]},
                "exclude": {
                    "maintained": [{"process": "vendor-master", "field": "vendor", "days": 30}]
                },
                "tiers": [
                    {"below": 10000, "approvals": 1},
                    {"at_least": 10000, "approvals": 2},
                ],
            }
        ],
    }
)
KEY = ("vendor-master", "vendor", "vendor")
CLERK = ActorFacts(person="ralf", permissions=frozenset({"payment.propose"}))
UTE = ActorFacts(person="ute", permissions=frozenset({"payment.release"}))


def submitted(amount: Any) -> Any:
    context = Context(today=date(2026, 12, 6), known=Known())
    body = {"vendor": "V1", "amount": amount}
    started = decide(None, Command(CommandKind.START, payload=body), CLERK, context, PAYMENT)
    assert isinstance(started, Accepted), started
    result = decide(started.case, Command(CommandKind.SUBMIT), CLERK, context)
    assert isinstance(result, Accepted), result
    return result.case


def release(case: Any, maintainers: dict[Any, frozenset[str]]) -> Accepted | Denied:
    context = Context(today=date(2026, 12, 6), maintainers=maintainers)
    return decide(case, Command(CommandKind.RELEASE), UTE, context)


def test_a_recent_maintainer_is_refused_and_anyone_else_may_release() -> None:
    case = submitted({"amount": "500.00", "currency": "EUR"})
    refused = release(case, {KEY: frozenset({"ute"})})
    assert isinstance(refused, Denied) and refused.code == "sod.cooling_off"
    assert isinstance(release(case, {KEY: frozenset({"nadine"})}), Accepted)


def test_without_the_maintainers_gathered_the_step_is_refused_fail_safe() -> None:
    refused = release(submitted({"amount": "500.00", "currency": "EUR"}), {})
    assert isinstance(refused, Denied) and refused.code == "process.maintainers_unknown"


def test_amount_bands_pick_the_tier_and_the_upper_bound_is_exclusive() -> None:
    assert submitted({"amount": "9999.99", "currency": "EUR"}).tier(PAYMENT.steps[0]).approvals == 1
    assert (
        submitted({"amount": "10000.00", "currency": "EUR"}).tier(PAYMENT.steps[0]).approvals == 2
    )


def test_moving_an_amount_band_up_makes_control_weaker_and_down_does_not() -> None:
    from backoffice.core.policy_diff import tiers_weaken
    from backoffice.core.processes import TierSpec

    def bands(edge: int) -> list[TierSpec]:
        return [
            TierSpec(below=edge, approvals=1),
            TierSpec(at_least=edge, approvals=2),
        ]

    assert tiers_weaken(bands(10000), bands(50000))
    assert not tiers_weaken(bands(10000), bands(5000))
    assert not tiers_weaken(bands(10000), bands(10000))
