"""Separation rules (MaRisk BTO 1.1 Tz. 1, BTO 2, KAGB §29(1)): examples and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.org import (
    Line,
    Membership,
    MembershipRole,
    Organisation,
    Period,
    Person,
    Responsibility,
    Unit,
    check_separation,
)

ALWAYS = Period(date(2020, 1, 1))


def bank(**changes: object) -> Organisation:
    """A minimal separated bank: market, back office, trading, settlement, risk control."""
    units = {
        "board": Unit("board", "Board", Line.MANAGEMENT),
        "market": Unit("market", "Market", Line.MARKET, "board"),
        "corporate": Unit("corporate", "Corporate", Line.MARKET, "market", explicit_line=False),
        "back-office": Unit("back-office", "Back Office", Line.BACK_OFFICE, "board"),
        "trading": Unit("trading", "Trading", Line.TRADING, "board"),
        "settlement": Unit("settlement", "Settlement", Line.SETTLEMENT, "board"),
        "risk": Unit("risk", "Risk Control", Line.RISK_CONTROL, "board"),
    }
    people = {p: Person(p, p.title()) for p in ("max", "sabine", "thomas", "anna", "maria")}
    memberships = (
        Membership("max", "board", MembershipRole.HEAD, ALWAYS),
        Membership("sabine", "board", MembershipRole.MEMBER, ALWAYS),
        Membership("thomas", "board", MembershipRole.MEMBER, ALWAYS),
        Membership("anna", "corporate", MembershipRole.MEMBER, ALWAYS),
        Membership("maria", "back-office", MembershipRole.HEAD, ALWAYS),
    )
    responsibilities = (
        Responsibility("max", "market", ALWAYS),
        Responsibility("max", "trading", ALWAYS),
        Responsibility("sabine", "back-office", ALWAYS),
        Responsibility("sabine", "settlement", ALWAYS),
        Responsibility("thomas", "risk", ALWAYS),
    )
    org = Organisation(units, people, memberships, responsibilities)
    return replace(org, **changes) if changes else org  # type: ignore[arg-type]


def rules(org: Organisation) -> list[str]:
    return [v.rule for v in check_separation(org)]


def test_a_separated_bank_has_no_violations() -> None:
    assert check_separation(bank()) == []


def test_market_unit_under_back_office_is_org_1() -> None:
    org = bank()
    units = dict(org.units) | {
        "corporate": Unit("corporate", "Corporate", Line.MARKET, "back-office")
    }
    found = check_separation(replace(org, units=units))
    assert found[0].rule == "ORG-1"
    assert "'Corporate' (market) lies under 'Back Office' (back office)" in found[0].message
    assert "MaRisk BTO 1.1 Tz. 1" in found[0].message


def test_market_and_back_office_meeting_below_the_board_is_org_1() -> None:
    org = bank()
    units = dict(org.units) | {
        "division": Unit("division", "Corporate Banking", Line.SERVICE, "board"),
        "market": Unit("market", "Market", Line.MARKET, "division"),
        "back-office": Unit("back-office", "Back Office", Line.BACK_OFFICE, "division"),
    }
    found = check_separation(replace(org, units=units))
    assert any(
        v.rule == "ORG-1" and "meet at 'Corporate Banking' below the board" in v.message
        for v in found
    )


def test_one_board_member_for_market_and_back_office_is_org_1() -> None:
    org = bank()
    extra = (Responsibility("max", "back-office", Period(date(2024, 1, 1), date(2024, 2, 1))),)
    found = check_separation(replace(org, responsibilities=org.responsibilities + extra))
    assert [v.rule for v in found] == ["ORG-1"]
    assert found[0].people == ("max",)
    assert "board member 'Max' is responsible for both 'Market'" in found[0].message


def test_responsibility_that_ended_before_the_other_began_is_fine() -> None:
    org = bank()
    ended = Responsibility("max", "back-office", Period(date(2018, 1, 1), date(2020, 1, 1)))
    assert check_separation(replace(org, responsibilities=(*org.responsibilities, ended))) == []


def test_separated_line_without_board_member_is_reported() -> None:
    org = bank()
    kept = tuple(r for r in org.responsibilities if r.unit != "settlement")
    found = check_separation(replace(org, responsibilities=kept))
    assert [(v.rule, v.units) for v in found] == [("ORG-1", ("settlement",))]


def test_person_in_market_and_back_office_at_once_is_org_2() -> None:
    org = bank()
    overlap = Membership("anna", "back-office", MembershipRole.MEMBER, Period(date(2025, 1, 1)))
    found = check_separation(replace(org, memberships=(*org.memberships, overlap)))
    assert [(v.rule, v.people) for v in found] == [("ORG-2", ("anna",))]


def test_moving_from_market_to_back_office_without_overlap_is_fine() -> None:
    org = bank()
    memberships = tuple(m for m in org.memberships if m.person != "anna") + (
        Membership(
            "anna", "corporate", MembershipRole.MEMBER, Period(date(2020, 1, 1), date(2025, 1, 1))
        ),
        Membership("anna", "back-office", MembershipRole.MEMBER, Period(date(2025, 1, 1))),
    )
    assert check_separation(replace(org, memberships=memberships)) == []


def test_trader_in_settlement_is_org_2_under_bto_2() -> None:
    org = bank()
    extra = (
        Membership("anna", "trading", MembershipRole.MEMBER, ALWAYS),
        Membership("anna", "settlement", MembershipRole.MEMBER, ALWAYS),
    )
    memberships = tuple(m for m in org.memberships if m.person != "anna") + extra
    found = check_separation(replace(org, memberships=memberships))
    assert [v.rule for v in found] == ["ORG-2"]
    assert "MaRisk BTO 2" in found[0].message


def test_trading_and_settlement_under_one_board_member_is_org_4() -> None:
    org = bank()
    extra = (Responsibility("sabine", "trading", ALWAYS),)
    found = check_separation(replace(org, responsibilities=org.responsibilities + extra))
    assert "ORG-4" in [v.rule for v in found]


def test_risk_control_under_the_market_board_member_is_rc_2() -> None:
    org = bank()
    responsibilities = tuple(r for r in org.responsibilities if r.unit != "risk") + (
        Responsibility("max", "risk", ALWAYS),
    )
    found = check_separation(replace(org, responsibilities=responsibilities))
    assert {v.rule for v in found} == {"RC-2"}
    assert all("KAGB §29(1)" in v.message for v in found)


def test_risk_control_headed_by_a_market_person_is_rc_2() -> None:
    org = bank()
    units = dict(org.units) | {
        "cro-office": Unit("cro-office", "CRO Office", Line.MANAGEMENT, "board"),
        "risk": Unit("risk", "Risk Control", Line.RISK_CONTROL, "cro-office"),
    }
    responsibilities = tuple(r for r in org.responsibilities if r.unit != "risk") + (
        Responsibility("thomas", "cro-office", ALWAYS),
    )
    head = Membership("anna", "cro-office", MembershipRole.HEAD, ALWAYS)
    found = check_separation(
        replace(
            org,
            units=units,
            responsibilities=responsibilities,
            memberships=(*org.memberships, head),
        )
    )
    assert [(v.rule, v.people) for v in found] == [("RC-2", ("anna",))]
    assert "'Anna' heads 'CRO Office', above risk control unit 'Risk Control'" in found[0].message


# -- properties over random organisations ------------------------------------------------

#: Board members by group: lines of one group may share a board member, of different groups not.
GROUPS = {
    "taking": (Line.MARKET, Line.TRADING, Line.ADVISORY, Line.UNDERWRITING),
    "processing": (Line.BACK_OFFICE, Line.SETTLEMENT, Line.RESEARCH, Line.SERVICE),
    "control": (Line.RISK_CONTROL, Line.COMPLIANCE, Line.INTERNAL_AUDIT),
}
NEUTRAL = (Line.SERVICE, Line.STAFF, Line.SUPPORT)


@st.composite
def separated_organisations(draw: st.DrawFn) -> Organisation:
    """Random trees that respect every separation rule by construction."""
    units = {"board": Unit("board", "Board", Line.MANAGEMENT)}
    group_of: dict[str, str] = {}  # unit -> the group of the division it lies in
    responsibilities = []
    memberships = [Membership(f"bm-{g}", "board", MembershipRole.MEMBER, ALWAYS) for g in GROUPS]
    people = {f"bm-{g}": Person(f"bm-{g}", f"Board {g}") for g in GROUPS}
    for group in draw(st.lists(st.sampled_from(sorted(GROUPS)), min_size=1, max_size=6)):
        top = f"u{len(units)}"
        units[top] = Unit(top, top, draw(st.sampled_from(GROUPS[group])), "board")
        group_of[top] = group
        responsibilities.append(Responsibility(f"bm-{group}", top, ALWAYS))
        for _ in range(draw(st.integers(0, 5))):
            parent = draw(
                st.sampled_from(
                    [
                        u
                        for u, g in group_of.items()
                        if u.startswith("u") and g == group and _under(units, u, top)
                    ]
                )
            )
            # below a division: its own line, or a neutral one (the market's own IT, say)
            line = units[parent].line
            if line == units[top].line:
                line = draw(st.sampled_from((line, *NEUTRAL)))
            uid = f"u{len(units)}"
            units[uid] = Unit(uid, uid, line, parent)
            group_of[uid] = group
    # each person works only in units of one group, possibly in several at once
    for index in range(draw(st.integers(0, 8))):
        pid = f"p{index}"
        people[pid] = Person(pid, pid)
        home = draw(st.sampled_from(sorted(set(group_of.values()))))
        mine = sorted(u for u, g in group_of.items() if g == home)
        for unit in draw(st.lists(st.sampled_from(mine), max_size=3, unique=True)):
            memberships.append(Membership(pid, unit, MembershipRole.MEMBER, ALWAYS))
    return Organisation(units, people, tuple(memberships), tuple(responsibilities))


def _under(units: dict[str, Unit], unit: str, top: str) -> bool:
    return top in Organisation(units).chain(unit)


def _sides(org: Organisation) -> tuple[Organisation, list[Unit], list[Unit]]:
    """Market and back-office units of ``org``, or of the fixed bank if it lacks one side."""
    market = [u for u in org.units.values() if u.line == Line.MARKET]
    back_office = [u for u in org.units.values() if u.line == Line.BACK_OFFICE]
    if market and back_office:
        return org, market, back_office
    fixed = bank()
    return fixed, [fixed.units["corporate"]], [fixed.units["back-office"]]


@settings(max_examples=200, deadline=None)
@given(separated_organisations())
def test_an_organisation_built_separated_never_reports(org: Organisation) -> None:
    assert check_separation(org) == []


@settings(max_examples=200, deadline=None)
@given(separated_organisations(), st.data())
def test_moving_a_market_unit_under_a_back_office_unit_always_reports(
    org: Organisation, data: st.DataObject
) -> None:
    org, market, back_office = _sides(org)
    moved = data.draw(st.sampled_from(market))
    target = data.draw(st.sampled_from(back_office))
    units = dict(org.units) | {moved.id: replace(moved, parent=target.id)}
    found = check_separation(replace(org, units=units))
    assert any(v.rule == "ORG-1" and moved.id in v.units for v in found)


@settings(max_examples=100, deadline=None)
@given(separated_organisations(), st.data())
def test_joining_both_sides_with_any_overlap_always_reports(
    org: Organisation, data: st.DataObject
) -> None:
    org, market, back_office = _sides(org)
    start = data.draw(st.dates(date(2020, 1, 1), date(2030, 1, 1)))
    overlap_days = data.draw(st.integers(1, 400))
    joiner = Person("joiner", "Joiner")
    extra = (
        Membership(
            "joiner",
            data.draw(st.sampled_from(market)).id,
            MembershipRole.MEMBER,
            Period(date(2019, 1, 1), start + timedelta(days=overlap_days)),
        ),
        Membership(
            "joiner",
            data.draw(st.sampled_from(back_office)).id,
            MembershipRole.MEMBER,
            Period(start),
        ),
    )
    changed = replace(
        org, people=dict(org.people) | {"joiner": joiner}, memberships=org.memberships + extra
    )
    assert ("ORG-2", ("joiner",)) in [(v.rule, v.people) for v in check_separation(changed)]


# -- ORG-3: approved, time-boxed deployments across lines ------------------------------------

_LUKAS = b"  - {person: lukas.becker, unit: corporate-clients, valid_from: 2022-03-01}\n"


def _deployed(extra: str) -> bytes:
    from tests.conftest import DEMO_POLICY

    text = DEMO_POLICY.read_bytes()
    assert _LUKAS in text
    line = f"  - {{person: lukas.becker, unit: credit-analysis, {extra}}}\n".encode()
    return text.replace(_LUKAS, _LUKAS + line, 1)


def test_an_approved_time_boxed_deployment_is_no_org2_violation() -> None:
    """ORG-3: Lukas (market) helps the back office for three months, approved by the board."""
    from backoffice.core.policy import parse_policy, to_organisation

    policy = _deployed(
        "valid_from: 2026-01-01, valid_to: 2026-04-01, "
        "exception: {reason: Backlog during the audit, approved_by: sabine.roth}"
    )
    assert check_separation(to_organisation(parse_policy(policy, "bank.yaml").policy)) == []
    plain = _deployed("valid_from: 2026-01-01, valid_to: 2026-04-01")
    violations = check_separation(to_organisation(parse_policy(plain, "bank.yaml").policy))
    assert [v.rule for v in violations] == ["ORG-2"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "valid_from: 2026-01-01, exception: {reason: Help, approved_by: sabine.roth}",
            "ORG-3: a cross-line deployment of 'lukas.becker' is time-boxed",
        ),
        (
            "valid_from: 2026-01-01, valid_to: 2026-12-01, "
            "exception: {reason: Help, approved_by: sabine.roth}",
            "at most 183 days",
        ),
        (
            "valid_from: 2026-01-01, valid_to: 2026-02-01, "
            "exception: {reason: Help, approved_by: lukas.becker}",
            "approved by another person who is a board member on 2026-01-01",
        ),
        (
            "valid_from: 2026-01-01, valid_to: 2026-02-01, "
            "exception: {reason: Help, approved_by: maria.keller}",
            "approved by another person who is a board member",
        ),
    ],
)
def test_a_deployment_must_be_time_boxed_and_approved_by_the_board(
    extra: str, message: str
) -> None:
    from backoffice.core.policy import PolicyInvalid, parse_policy

    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(_deployed(extra), "bank.yaml")
    assert message in str(caught.value) and "bank.yaml:" in str(caught.value)
