"""Access over time (#13): a grant or a delegation is judged on every day it is valid.

A person's roles and mitigations are spans of days. Between two days on which one of them
starts or ends nothing changes, so judging the first day of a period and every day inside
it on which something starts or ends judges every day of it — also assignments that start
in the future, released before the grant under judgement. The worst day counts (ACC-1..3):
a refusal on any day refuses, and the unmitigated risk is the most severe of all days; a
mitigation that ends inside the period leaves its risk open from the day after its last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from typing_extensions import override

from backoffice.core.access import LEVELS, AccessRules, Assessment, assess_grant

__all__ = [
    "Change",
    "Span",
    "Timeline",
    "DayAssessment",
    "PeriodAssessment",
    "judgement_days",
    "assess_over",
    "assess_grant_over",
]


@dataclass(frozen=True)
class Span:
    """``value`` (a role, a mitigated risk) held from ``start`` until ``end`` (exclusive;
    None: open-ended)."""

    value: str
    start: date
    end: date | None = None

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Change:
    """Something that starts or ends on a day: a role, or the mitigation of a risk."""

    kind: str  # "role" or "mitigation"
    value: str
    starts: bool
    #: whose it is, when not the person judged (a delegation's principal)
    whose: str = ""

    @override
    def __str__(self) -> str:
        whose = f"{self.whose}'s " if self.whose else ""
        what = "role" if self.kind == "role" else "the mitigation of"
        return f"{whose}{what} {self.value} {'starts' if self.starts else 'ends'}"


@dataclass(frozen=True)
class Timeline:
    """One person's role assignments and mitigations over time; a mitigation's span ends
    on the day after its last valid day."""

    roles: tuple[Span, ...] = ()
    mitigations: tuple[Span, ...] = ()

    def roles_on(self, day: date) -> set[str]:
        return {s.value for s in self.roles if s.holds_on(day)}

    def mitigated_on(self, day: date) -> set[str]:
        return {s.value for s in self.mitigations if s.holds_on(day)}

    def changes(self, whose: str = "") -> dict[date, list[Change]]:
        """Each day on which something starts or ends, with what."""
        found: dict[date, list[Change]] = {}
        for kind, spans in (("role", self.roles), ("mitigation", self.mitigations)):
            for span in spans:
                found.setdefault(span.start, []).append(Change(kind, span.value, True, whose))
                if span.end is not None:
                    found.setdefault(span.end, []).append(Change(kind, span.value, False, whose))
        return found


def judgement_days(start: date, end: date | None, changes: Iterable[date]) -> list[date]:
    """``start`` and every change day inside ``[start, end)``: the days that decide."""
    inside = {d for d in changes if start < d and (end is None or d < end)}
    return [start, *sorted(inside)]


@dataclass(frozen=True)
class DayAssessment:
    day: date
    assessment: Assessment
    #: what starts or ends on this day (nothing for the period's first day)
    because: tuple[Change, ...] = ()

    def when(self) -> str:
        """``from 2027-01-05, when role settlement-clerk starts``."""
        because = f", when {' and '.join(map(str, self.because))}" if self.because else ""
        return f"from {self.day.isoformat()}{because}"


def _severity(assessment: Assessment) -> int:
    """0 for a refusal, then one step per risk level, most severe first; ``none`` last."""
    if assessment.refusal is not None:
        return 0
    risk = assessment.risk
    return 1 + (LEVELS.index(risk) if risk != "none" else len(LEVELS))


@dataclass(frozen=True)
class PeriodAssessment:
    """The assessments of every deciding day of ``[start, end)``; the worst one counts."""

    start: date
    end: date | None
    days: tuple[DayAssessment, ...]

    @property
    def worst(self) -> DayAssessment:
        """The first refusing day, else the first day with the most severe open risk."""
        return min(self.days, key=lambda d: _severity(d.assessment))

    @property
    def refusal(self) -> tuple[str, str] | None:
        """As :attr:`Assessment.refusal`, saying from which day when it is not the first."""
        worst = self.worst
        refusal = worst.assessment.refusal
        if refusal is None or worst.day == self.start:
            return refusal
        code, message = refusal
        return code, f"{worst.when().capitalize()}: {message[:1].lower()}{message[1:]}"

    @property
    def risk(self) -> str:
        """The most severe unmitigated risk level of any day, or ``none``."""
        levels = {d.assessment.risk for d in self.days}
        return next((level for level in LEVELS if level in levels), "none")

    @property
    def risk_day(self) -> DayAssessment:
        """The first day on which :attr:`risk` arises (the first day when there is none)."""
        risk = self.risk
        return next((d for d in self.days if d.assessment.risk == risk), self.days[0])

    def open_risks(self) -> dict[str, str]:
        """Every gained risk that no mitigation covers on some day, with its level."""
        return {
            r.risk: r.level
            for d in self.days
            for r in d.assessment.gained
            if r.risk not in d.assessment.mitigated
        }


def assess_over(
    start: date,
    end: date | None,
    changes: Mapping[date, Sequence[Change]],
    judge: Callable[[date], Assessment],
) -> PeriodAssessment:
    """``judge`` on ``start`` and on every day in ``changes`` inside the period."""
    days = judgement_days(start, end, changes)
    return PeriodAssessment(
        start,
        end,
        tuple(
            DayAssessment(day, judge(day), tuple(changes.get(day, ())) if day != start else ())
            for day in days
        ),
    )


def assess_grant_over(
    rules: AccessRules,
    timeline: Timeline,
    add: Iterable[str],
    start: date,
    end: date | None = None,
    remove: Iterable[str] = (),
) -> PeriodAssessment:
    """What holding ``add`` (and not ``remove``) from ``start`` until ``end`` would mean,
    judged against the roles and mitigations ``timeline`` has on each of those days."""
    added, removed = tuple(add), tuple(remove)

    def judge(day: date) -> Assessment:
        return assess_grant(
            rules, timeline.roles_on(day), added, removed, timeline.mitigated_on(day)
        )

    return assess_over(start, end, timeline.changes(), judge)
