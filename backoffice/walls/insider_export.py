"""A deal project's insider list in the templates of Regulation (EU) 2016/347 (#17), with the
permanent insiders section, as CSV or XLSX. Compliance and internal audit export it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, time

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core.csvsafe import safe_cell
from backoffice.core.insider_list import InsiderPerson, ListSection, section_rows, split_name
from backoffice.org.models import Membership
from backoffice.org.queries import get_live_policy
from backoffice.walls.models import DealProject, WallCrossing
from backoffice.walls.queries import get_all_insiders, get_walls

__all__ = [
    "deal_section",
    "permanent_section",
    "insider_list_rows",
    "insider_list_xlsx",
    "do_note_export",
]


def _company() -> str:
    policy = get_live_policy()
    return policy.institution.name if policy else ""


def _name(user: object) -> tuple[str, str]:
    profile = getattr(user, "profile", None)
    username = str(getattr(user, "username", ""))
    return split_name(profile.display_name if profile else username, username)


def deal_section(project: DealProject) -> list[list[str]]:
    """Template 1: everyone who had access to the deal's inside information, with when
    they obtained it and when they ceased to have it."""
    company = _company()
    people = []
    updated = project.last_updated
    for row in get_all_insiders(project):
        first, last = _name(row.user)
        if isinstance(row, WallCrossing):
            until = min(row.valid_to, row.ended_at) if row.ended_at else row.valid_to
            until_shown = until if until <= timezone.now() else None
            why = f"brought over the wall (approved by {row.approved_by}): {row.reason}"
            people.append(InsiderPerson(first, last, company, why, row.valid_from, until_shown))
            updated = max(updated, row.last_updated)
        else:
            why = f"deal team member: {row.reason}"
            people.append(InsiderPerson(first, last, company, why, row.since, row.until))
            updated = max(updated, row.last_updated)
    section = ListSection(f"{project.name} ({project.issuer.name})", project.created, updated)
    return section_rows(section, people)


def permanent_section() -> list[list[str]]:
    """Template 2: the walls' control (compliance, internal audit) reads behind every wall,
    so it has access to all inside information at all times."""
    walls = get_walls()
    today = timezone.localdate()
    current = (
        Membership.objects.filter(valid_from__lte=today)
        .exclude(valid_to__lte=today)
        .select_related("user__profile", "unit")
        .order_by("valid_from", "pk")
    )
    company = _company()
    people = []
    created: datetime | None = None
    for m in current:
        if m.unit.line not in walls.control_lines and m.unit.key not in walls.control_units:
            continue
        since = datetime.combine(m.valid_from, time(), tzinfo=UTC)
        created = since if created is None else min(created, since)
        first, last = _name(m.user)
        why = f"{m.unit.name}: reads behind every Chinese wall (control)"
        people.append(InsiderPerson(first, last, company, why, since))
    now = timezone.now()
    section = ListSection("", created or now, now, permanent=True)
    return section_rows(section, people)


def insider_list_rows(project: DealProject) -> Iterator[list[str]]:
    """The CSV: the deal section, an empty line, the permanent insiders section."""
    yield from deal_section(project)
    yield []
    yield from permanent_section()


def insider_list_xlsx(project: DealProject) -> bytes:
    """The XLSX: one sheet per section, the head in bold, every cell guarded like a CSV's."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Deal-specific section"
    sections = [(sheet, deal_section(project))]
    sections.append((book.create_sheet("Permanent insiders"), permanent_section()))
    for target, rows in sections:
        for index, row in enumerate(rows, start=1):
            target.append([safe_cell(cell) for cell in row])
            if index == 1 or index == 5:
                for cell in target[index]:
                    cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def do_note_export(actor: Actor, project: DealProject, file_format: str) -> None:
    """Who took the insider list out of the system, and when: on the audit trail."""
    with transaction.atomic():
        record(
            "walls.insider_list.exported",
            actor=actor.person,
            object_type="deal_project",
            object_id=project.key,
            after={"format": file_format, "template": "Regulation (EU) 2016/347"},
        )
