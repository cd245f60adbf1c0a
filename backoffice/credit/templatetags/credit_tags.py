"""Formatting of report cells: the same text the CSV has, and readable column titles."""

from __future__ import annotations

from typing import Any

from django import template

from backoffice.credit.queries import format_cell

register = template.Library()


@register.filter
def cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else format_cell(value)


@register.filter
def column_title(column: str) -> str:
    return column.replace("_", " ").capitalize()
