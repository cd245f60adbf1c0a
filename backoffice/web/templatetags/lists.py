"""#19: ``{% sort_header "column" _("Label") %}``: a list's column header that sorts it.

The header links to the same list sorted by its column (filters kept), carries
``aria-sort`` while the list is sorted by it and shows an arrow that says which way.
A column the list cannot sort by (no ``sorted`` in the context) is a plain header.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.base.sorting import Sorted

register = template.Library()

ARROWS = {"ascending": "▲", "descending": "▼", "": "↕"}


@register.simple_tag(takes_context=True)
def sort_header(context: Any, column: str, label: str, css: str = "") -> SafeString:
    """A ``<th>`` whose link sorts the list by ``column`` (again: the other way round)."""
    sorted_: Sorted | None = context.get("sorted")
    css_attr = format_html(' class="{}"', css) if css else ""
    if sorted_ is None or column not in sorted_.sorting.columns:
        return format_html('<th scope="col"{}>{}</th>', css_attr, label)
    aria = sorted_.aria(column)
    aria_attr = format_html(' aria-sort="{}"', aria) if aria else ""
    return format_html(
        '<th scope="col"{}{}><a class="sort{}" href="{}">{}<span class="sort-arrow" '
        'aria-hidden="true">{}</span></a></th>',
        css_attr,
        aria_attr,
        " sorted" if aria else "",
        sorted_.url(column),
        label,
        ARROWS[aria],
    )
