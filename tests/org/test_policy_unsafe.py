"""#15: a policy change that lets one person complete a process the live policy proves safe
is refused, naming the process and the witness (core.policy_verify)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.org.models import PolicyVersion
from backoffice.org.services import apply_policy
from tests.cases.conftest import Person, problem
from tests.unit.test_policy_verify import CRITICAL_TRADING, SSD_TRADING, with_trade_settlement

SAFE = with_trade_settlement()
#: SSD ssd-trading dropped and the trading-settlement risk lowered to high: a trader may
#: now also hold the settlement clerk's role, and so enter and settle a trade alone
UNSAFE = SAFE.replace(SSD_TRADING, "").replace(
    CRITICAL_TRADING, CRITICAL_TRADING.replace("critical", "high")
)


@pytest.fixture
def person(demo_bank: Any) -> Callable[[str], Person]:
    """The demo bank with a trade-settlement process its SSD and critical risk prove safe."""
    apply_policy(SAFE.encode(), "test", actor="test:setup", reason="trade settlement")
    return Person


def test_a_change_that_lets_one_person_settle_a_trade_alone_is_refused(
    person: Callable[[str], Person],
) -> None:
    versions = PolicyVersion.objects.count()
    body = problem(
        person("oliver.richter").start(
            "policy-change", {"summary": "trading and settlement", "policy": UNSAFE}
        ),
        403,
        "policy.unsafe",
    )
    assert "Trade settlement (trade-settlement)" in body["detail"]
    assert (
        "roles {settlement-clerk, trader} starts the case, then takes settle directly"
        in (body["detail"])
    )
    assert PolicyVersion.objects.count() == versions
    refused = AuditEvent.objects.filter(action="case.start_denied").last()
    assert refused is not None and refused.after["code"] == "policy.unsafe"


def test_a_change_that_keeps_the_process_safe_goes_through(
    person: Callable[[str], Person],
) -> None:
    tightened = SAFE.replace(
        '{when: "amount < 10000", approvals: 1', '{when: "amount < 5000", approvals: 1'
    )
    started = person("oliver.richter").start(
        "policy-change", {"summary": "payment limits", "policy": tightened}
    )
    assert started.status_code == 201, started.content
    done = person("hanna.schroeder").act(started.json()["id"], "release").json()
    assert done["status"] == "released"
    assert Case.objects.get(pk=started.json()["id"]).status == "released"
