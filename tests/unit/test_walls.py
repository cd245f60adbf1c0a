"""The Chinese-wall rules on plain data (CW-1 … CW-4, BN-1), the policy section, and the
Brewer–Nash property over random sequences of reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.org import Line
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.core.walls import (
    Crossing,
    Datum,
    Kind,
    Project,
    ReadAllowed,
    Reader,
    Walls,
    WallsSpec,
    check_crossing,
    check_crossing_position,
    check_read,
    check_restricted,
    check_write,
    crossing_period,
    may_know_project,
    position_refusal_told,
)
from tests.conftest import DEMO_POLICY

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

SPEC = WallsSpec.model_validate(
    {
        "areas": [
            {"id": "private", "name": "Private side", "lines": ["underwriting", "advisory"]},
            {"id": "research", "name": "Research", "lines": ["research"]},
            {"id": "public", "name": "Public side", "lines": ["trading"]},
            {"id": "sales", "name": "Sales", "units": ["sales-desk"]},
        ],
        "barriers": [
            {"area": "private", "walled_off_from": ["research", "public", "sales"]},
            {"area": "research", "walled_off_from": ["private", "public"]},
        ],
        "control": {"lines": ["compliance"]},
        "max_crossing_days": 30,
        "conflict_classes": [
            {"id": "banks", "name": "Banks", "issuers": [
                {"id": "bank-a", "name": "Bank A"},
                {"id": "bank-b", "name": "Bank B"},
                {"id": "bank-c", "name": "Bank C"},
            ]},
            {"id": "cars", "name": "Car makers", "issuers": [
                {"id": "car-x", "name": "Car X"},
                {"id": "car-y", "name": "Car Y"},
            ]},
        ],
    }
)  # fmt: skip
WALLS = Walls.from_spec(SPEC)


def person(*lines: Line, units: tuple[str, ...] = (), name: str = "p") -> ActorFacts:
    return ActorFacts(name, lines=frozenset(lines), units=frozenset(units))


BANKER = person(Line.UNDERWRITING, name="jan")
ANALYST = person(Line.RESEARCH, name="tim")
TRADER = person(Line.TRADING, name="niklas")
SALES = person(Line.MARKET, units=("sales-desk",), name="sam")
CLERK = person(Line.BACK_OFFICE, name="paul")
COMPLIANCE = person(Line.COMPLIANCE, name="clara")


def deal(issuer: str = "bank-a", kind: Kind = Kind.CONFIDENTIAL) -> Datum:
    return Datum(issuer, "private", kind)


def crossing(issuer: str = "bank-a", days: int = 10, *, ended: bool = False) -> Crossing:
    start, end = crossing_period(AT - timedelta(days=1), days)
    return Crossing("tim", "falcon", issuer, "private", start, end, ended)


# -- CW-1, CW-2 ------------------------------------------------------------------------------


def test_people_inside_an_area_read_its_data_and_control_reads_everything() -> None:
    assert check_read(WALLS, Reader(BANKER), deal(), AT) == ReadAllowed(True, "inside")
    assert check_read(WALLS, Reader(COMPLIANCE), deal(), AT) == ReadAllowed(False, "control")
    assert check_read(WALLS, Reader(ANALYST), Datum("bank-a", "research", Kind.INTERNAL), AT)


@pytest.mark.parametrize("reader", [ANALYST, TRADER, SALES, CLERK], ids=lambda r: r.person)
def test_everyone_else_is_outside_the_wall(reader: ActorFacts) -> None:
    denied = check_read(WALLS, Reader(reader), deal(), AT)
    assert isinstance(denied, Denied) and denied.code == "wall.not_inside"
    assert "Bank A" not in denied.message  # a refusal does not give the issuer away


def test_an_area_not_walled_off_shares_its_data() -> None:
    # research's data is walled off from the private and the public side, not from sales
    note = Datum("bank-a", "research", Kind.INTERNAL)
    assert isinstance(check_read(WALLS, Reader(SALES), note, AT), ReadAllowed)
    assert isinstance(check_read(WALLS, Reader(TRADER), note, AT), Denied)


def test_a_crossing_lets_one_in_for_its_issuer_its_area_and_its_time_only() -> None:
    tim = Reader(ANALYST, crossings=(crossing(),))
    assert check_read(WALLS, tim, deal(), AT) == ReadAllowed(True, "crossing")
    assert isinstance(check_read(WALLS, tim, deal("bank-b"), AT), Denied)
    niklas = Reader(TRADER, crossings=(crossing(),))  # over the private side's wall only
    assert isinstance(check_read(WALLS, niklas, deal(), AT), ReadAllowed)
    assert isinstance(
        check_read(WALLS, niklas, Datum("bank-a", "research", Kind.INTERNAL), AT), Denied
    )
    end = crossing().valid_to
    assert isinstance(check_read(WALLS, tim, deal(), end - timedelta(microseconds=1)), ReadAllowed)
    assert isinstance(check_read(WALLS, tim, deal(), end), Denied)  # it ends by itself
    ended = Reader(ANALYST, crossings=(crossing(ended=True),))
    assert isinstance(check_read(WALLS, ended, deal(), AT), Denied)


def test_public_data_is_always_readable() -> None:
    for reader in (ANALYST, TRADER, CLERK):
        history = Reader(reader, history=frozenset({"bank-b"}))
        assert check_read(WALLS, history, deal(kind=Kind.PUBLIC), AT) == ReadAllowed(
            False, "public"
        )


# -- BN-1 ------------------------------------------------------------------------------------


def test_brewer_nash_the_first_read_in_a_class_decides_the_side() -> None:
    jan = Reader(BANKER, history=frozenset({"bank-a"}))
    assert check_read(WALLS, jan, deal("bank-a"), AT) == ReadAllowed(False, "inside")
    denied = check_read(WALLS, jan, deal("bank-b"), AT)
    assert isinstance(denied, Denied) and denied.code == "wall.conflict"
    assert "Bank A" in denied.message and "Banks" in denied.message
    assert check_read(WALLS, jan, deal("car-x"), AT) == ReadAllowed(True, "inside")
    # internal data (research drafts) is walled, but no issuer's secret: no conflict
    inside_research = Reader(ANALYST, history=frozenset({"bank-a"}))
    note = Datum("bank-b", "research", Kind.INTERNAL)
    assert check_read(WALLS, inside_research, note, AT) == ReadAllowed(False, "inside")


def test_brewer_nash_binds_people_crossed_over_but_not_control() -> None:
    tim = Reader(ANALYST, history=frozenset({"bank-b"}), crossings=(crossing("bank-a"),))
    assert getattr(check_read(WALLS, tim, deal("bank-a"), AT), "code", None) == "wall.conflict"
    clara = Reader(COMPLIANCE, history=frozenset({"bank-b"}))
    assert isinstance(check_read(WALLS, clara, deal("bank-a"), AT), ReadAllowed)


def test_the_write_rule_needs_a_history_without_other_datasets() -> None:
    fresh = Reader(BANKER)
    assert check_write(WALLS, fresh, deal("bank-a"), AT) == ReadAllowed(True, "inside")
    own = Reader(BANKER, history=frozenset({"bank-a"}))
    assert isinstance(check_write(WALLS, own, deal("bank-a"), AT), ReadAllowed)
    other_class = Reader(BANKER, history=frozenset({"car-x"}))
    assert isinstance(check_read(WALLS, other_class, deal("bank-a"), AT), ReadAllowed)
    denied = check_write(WALLS, other_class, deal("bank-a"), AT)
    assert isinstance(denied, Denied) and "*-property" in denied.message
    assert isinstance(
        check_write(WALLS, other_class, deal("bank-a", Kind.INTERNAL), AT), ReadAllowed
    )
    assert isinstance(check_write(WALLS, Reader(ANALYST), deal("bank-a"), AT), Denied)
    control = Reader(COMPLIANCE, history=frozenset({"car-x"}))
    assert isinstance(check_write(WALLS, control, deal("bank-a"), AT), ReadAllowed)


# -- CW-3, CW-2 ------------------------------------------------------------------------------


def test_restricted_issuers_refuse_the_activity() -> None:
    denied = check_restricted(WALLS, "car-x", {"car-x"}, "publishing research")
    assert isinstance(denied, Denied) and denied.code == "wall.restricted"
    assert "Car X" in denied.message and "publishing research" in denied.message
    assert check_restricted(WALLS, "car-y", {"car-x"}, "publishing research") is None


FALCON = Project("falcon", "Project Falcon", "bank-a", "private")


@pytest.mark.parametrize(
    ("reader", "project", "days", "code"),
    [
        (Reader(ANALYST), FALCON, 10, None),
        (Reader(ANALYST), Project("falcon", "Falcon", "bank-a", "private", open=False), 10,
         "wall.project_closed"),
        (Reader(ANALYST), FALCON, 31, "wall.crossing_too_long"),
        (Reader(ANALYST), FALCON, 0, "wall.crossing_too_long"),
        (Reader(BANKER), FALCON, 10, "wall.crossing_unneeded"),
        (Reader(COMPLIANCE), FALCON, 10, "wall.crossing_unneeded"),
        (Reader(ANALYST, crossings=(crossing(),)), FALCON, 10, "wall.crossing_unneeded"),
        (Reader(ANALYST, history=frozenset({"bank-c"})), FALCON, 10, "wall.conflict"),
        (Reader(ANALYST, history=frozenset({"car-y"})), FALCON, 30, None),
    ],
)  # fmt: skip
def test_crossing_rules(reader: Reader, project: Project, days: int, code: str | None) -> None:
    denied = check_crossing(WALLS, reader, project, days, AT)
    assert (denied.code if denied else None) == code


@pytest.mark.parametrize(
    ("reader", "known"),
    [
        (Reader(BANKER), True),  # inside the project's area
        (Reader(COMPLIANCE), True),  # control
        (Reader(ANALYST), False),  # research: outside the wall
        (Reader(TRADER), False),
        (Reader(ANALYST, crossings=(crossing(),)), True),  # over the wall for Bank A
        (Reader(BANKER, history=frozenset({"bank-b"})), False),  # read a competitor (BN-1)
    ],
)
def test_only_who_may_read_a_mandate_may_know_of_its_project(reader: Reader, known: bool) -> None:
    assert may_know_project(WALLS, reader, FALCON, AT) is known


def test_a_persons_position_is_told_to_them_and_to_control_only() -> None:
    analyst = Reader(ANALYST, history=frozenset({"bank-c"}))
    refusal = check_crossing_position(WALLS, analyst, FALCON, AT)
    assert refusal is not None and refusal.code == "wall.conflict"
    assert "Bank C" in refusal.message and "Bank A" in refusal.message
    assert position_refusal_told(WALLS, ANALYST, ANALYST, refusal) == refusal  # their own
    told = position_refusal_told(WALLS, BANKER, ANALYST, refusal)  # the deal team
    assert told.code == "wall.crossing_refused" and told.details == ()
    assert "Bank" not in told.message
    control = position_refusal_told(WALLS, COMPLIANCE, ANALYST, refusal)
    assert control.message == told.message and "Bank C" in control.details[0][1]


# -- the property ------------------------------------------------------------------------------

ISSUERS = sorted(WALLS.classes)
READERS = [BANKER, ANALYST, TRADER, SALES, COMPLIANCE]
reads = st.lists(
    st.tuples(
        st.sampled_from(ISSUERS),
        st.sampled_from(sorted(WALLS.areas)),
        st.sampled_from(list(Kind)),
        st.booleans(),  # a write instead of a read
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    reader=st.sampled_from(READERS),
    crossed=st.lists(st.sampled_from(ISSUERS), max_size=3),
    steps=reads,
)
def test_no_sequence_of_reads_ever_touches_two_datasets_of_one_class(
    reader: ActorFacts, crossed: list[str], steps: list[tuple[str, str, Kind, bool]]
) -> None:
    """BN-1: whatever one person tries, in whatever order, their history never holds two
    datasets of one conflict class; and a refused read changes nothing."""
    crossings = tuple(crossing(issuer) for issuer in crossed)
    history: frozenset[str] = frozenset()
    for issuer, area, kind, write in steps:
        person_now = Reader(reader, history=history, crossings=crossings)
        rule = check_write if write else check_read
        decision = rule(WALLS, person_now, Datum(issuer, area, kind), AT)
        if isinstance(decision, ReadAllowed) and decision.records:
            assert kind == Kind.CONFIDENTIAL and issuer not in history
            history = history | {issuer}
        classes = [WALLS.classes[i] for i in history]
        assert len(classes) == len(set(classes)), history
        if write and isinstance(decision, ReadAllowed) and kind == Kind.CONFIDENTIAL:
            assert decision.via == "control" or history <= {issuer}


@settings(max_examples=200, deadline=None)
@given(history=st.sets(st.sampled_from(ISSUERS)), issuer=st.sampled_from(ISSUERS))
def test_a_dataset_already_read_stays_readable_and_an_untouched_class_is_free(
    history: set[str], issuer: str
) -> None:
    consistent = {}
    for item in sorted(history):
        consistent.setdefault(WALLS.classes[item], item)
    jan = Reader(BANKER, history=frozenset(consistent.values()))
    decision = check_read(WALLS, jan, deal(issuer), AT)
    same_class = [h for h in jan.history if WALLS.classes[h] == WALLS.classes[issuer]]
    assert isinstance(decision, ReadAllowed) == (not same_class or same_class == [issuer])


# -- the policy section -------------------------------------------------------------------------


def test_the_demo_bank_has_walls() -> None:
    policy = parse_policy(DEMO_POLICY.read_bytes(), "demo-bank.yaml").policy
    walls = Walls.from_spec(policy.walls)
    assert set(walls.areas) == {"private-side", "research", "public-side"}
    assert walls.classes["nordbank"] == walls.classes["rheinbank"] == "banks"
    assert walls.processes["deal-mandate"].kind == Kind.CONFIDENTIAL
    assert walls.processes["research-publication"].kind == Kind.INTERNAL
    assert not walls.inside(ActorFacts("tim", lines=frozenset({Line.RESEARCH})), "private-side")
    assert Walls.from_spec(None).processes == {}


def _problems(replacements: dict[str, str]) -> list[str]:
    text = DEMO_POLICY.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(text.encode(), "p.yaml")
    return [str(p) for p in caught.value.problems]


def _line_of(fragment: str) -> int:
    lines = DEMO_POLICY.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


@pytest.mark.parametrize(
    ("old", "new", "message", "at"),
    [
        (
            "{area: research, walled_off_from: [private-side, public-side]}",
            "{area: research, walled_off_from: [private-side, back-office]}",
            "walls: unknown area 'back-office'",
            None,
        ),
        (
            "{area: research, walled_off_from: [private-side, public-side]}",
            "{area: research, walled_off_from: [research]}",
            "walls: area 'research' cannot be walled off from itself",
            None,
        ),
        (
            "{process: research-publication, area: research, kind: internal}",
            "{process: research-notes, area: research, kind: internal}",
            "walls: unknown process 'research-notes'",
            None,
        ),
        (
            "{process: research-publication, area: research, kind: internal}",
            "{process: research-publication, area: research, issuer: rating, kind: internal}",
            "walls: 'rating' must name a string field of process 'research-publication'",
            None,
        ),
        (
            "{id: hansebank, name: Hanse Kreditbank AG}",
            "{id: autowerk, name: Hanse Kreditbank AG}",
            "walls: issuer 'autowerk' is listed twice (an issuer is in one class)",
            "{id: autowerk, name: Autowerk Süd AG}",
        ),
        (
            "{process: research-publication, area: research, kind: internal}",
            "{process: research-publication, area: research, kind: public}",
            "a walled process holds internal or confidential data, not public",
            None,
        ),
    ],
)
def test_policy_problems_in_the_walls_section_name_file_and_line(
    old: str, new: str, message: str, at: str | None
) -> None:
    found = _problems({old: new})
    assert len(found) == 1 and message in found[0], found
    assert found[0].startswith(f"p.yaml:{_line_of(at or old)}:"), found


def test_a_mandate_process_must_be_behind_the_wall() -> None:
    found = _problems(
        {"    - {process: deal-mandate, area: private-side, kind: confidential}\n": ""}
    )
    assert len(found) == 1 and "opens deal projects" in found[0], found


def test_an_area_needs_members_and_unknown_keys_are_refused() -> None:
    area = "{id: public-side, name: Public side (trading), lines: [trading]}"
    found = _problems({area: "{id: public-side, name: Public side (trading), colour: red}"})
    assert found == [f"p.yaml:{_line_of(area)}:54: walls.areas.2.colour: unknown key"]
    found = _problems({area: "{id: public-side, name: Public side (trading)}"})
    assert len(found) == 1 and "an area needs 'lines' or 'units'" in found[0], found
