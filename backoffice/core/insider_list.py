"""Insider lists in the format of Commission Implementing Regulation (EU) 2016/347 (#17).

MAR Art. 18(9): Annex I, Template 1 is a deal-specific (or event-based) section, Template 2
the permanent insiders section (persons who have access to all inside information at all
times: here the walls' control, compliance and internal audit). Pure: people and times in,
the template's rows out; the ``walls`` app reads the data and writes CSV or XLSX.

Backoffice does not hold personal data (date of birth, national identification number,
personal telephone numbers, home address): those cells stay empty, and compliance completes
them before the list goes to the competent authority.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "PERSON_FIELDS",
    "DEAL_FIELDS",
    "PERMANENT_FIELDS",
    "InsiderPerson",
    "ListSection",
    "template_time",
    "section_rows",
]

#: Template 1 and 2: the fields per person, in the regulation's order and words
PERSON_FIELDS = (
    "First name(s) of the insider",
    "Surname(s) of the insider",
    "Birth surname(s) of the insider (if different)",
    "Professional telephone number(s) (work direct landline and work mobile numbers)",
    "Company name and address",
    "Function and reason for being insider",
)
PERSONAL_FIELDS = (
    "Date of birth",
    "National Identification Number (if applicable)",
    "Personal telephone numbers (home and personal mobile telephone numbers)",
    "Personal full home address (street name; street number; city; post/zip code; country)",
)
DEAL_FIELDS = (
    *PERSON_FIELDS,
    "Obtained (the date and time at which a person obtained access to inside information)",
    "Ceased (the date and time at which a person ceased to have access to inside information)",
    *PERSONAL_FIELDS,
)
PERMANENT_FIELDS = (
    *PERSON_FIELDS,
    "Included (the date and time at which a person was included in the permanent insider section)",
    *PERSONAL_FIELDS,
)


@dataclass(frozen=True)
class InsiderPerson:
    """One row of a section: who, why, from when (and, in a deal section, until when)."""

    first_names: str
    surnames: str
    company: str
    function_and_reason: str
    since: datetime
    until: datetime | None = None


@dataclass(frozen=True)
class ListSection:
    """A section's head: what inside information, created and last updated when."""

    title: str
    created: datetime
    updated: datetime
    permanent: bool = False


def template_time(at: datetime | None) -> str:
    """The templates' format: ``yyyy-mm-dd, hh:mm UTC``."""
    if at is None:
        return ""
    return at.astimezone(UTC).strftime("%Y-%m-%d, %H:%M UTC")


def split_name(display_name: str, username: str) -> tuple[str, str]:
    """First names and surname from a display name ("Dr. Max Weber": "Dr. Max", "Weber")."""
    parts = display_name.split() or [username]
    return (" ".join(parts[:-1]), parts[-1])


def section_rows(section: ListSection, people: Iterable[InsiderPerson]) -> list[list[str]]:
    """A section as the template lays it out: its head lines, the column titles, one row per
    person in the order given (a person's rows stay when their access ends: ``Ceased``)."""
    kind = "permanent insiders" if section.permanent else f"section related to {section.title}"
    head = [
        [f"Insider list: {kind}"],
        [
            "Date and time (of creation of this section of the insider list)",
            template_time(section.created),
        ],
        ["Date and time (last update)", template_time(section.updated)],
        ["Date of transmission to the competent authority", ""],
        list(PERMANENT_FIELDS if section.permanent else DEAL_FIELDS),
    ]
    rows = []
    for p in people:
        times = (
            [template_time(p.since)]
            if section.permanent
            else [template_time(p.since), template_time(p.until)]
        )
        rows.append(
            [p.first_names, p.surnames, "", "", p.company, p.function_and_reason, *times]
            + [""] * len(PERSONAL_FIELDS)
        )
    return head + rows
