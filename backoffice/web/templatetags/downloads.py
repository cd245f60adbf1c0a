"""``{% include "_downloads.html" with url=csv_url %}``: a list's CSV link and its XLSX twin."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def as_xlsx(url: str) -> str:
    """The same download as a workbook: every ``?format=csv`` list answers ``?format=xlsx``."""
    return url.replace("format=csv", "format=xlsx")
