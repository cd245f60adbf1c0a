"""Template helpers: money per locale, status badges, small server-side SVG charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def money(value: Any, currency: str = "") -> str:
    """``1.250.000,00 EUR`` in German, ``1,250,000.00 EUR`` in English."""
    if value in (None, ""):
        return ""
    if isinstance(value, Mapping):
        value, currency = value.get("amount"), value.get("currency", currency)
    amount = number_format(Decimal(str(value)), 2, use_l10n=True, force_grouping=True)
    return f"{amount} {currency}".strip()


@register.filter
def beyond_cap(count: int) -> bool:
    """Whether an inbox count stopped at ``INBOX_COUNT_CAP`` (there may be more)."""
    from backoffice.cases.queries import INBOX_COUNT_CAP

    return count >= INBOX_COUNT_CAP


@register.filter
def badge(count: int) -> str:
    """An inbox count as the badge shows it: "99+" where the count stopped."""
    return f"{count - 1}+" if beyond_cap(count) else str(count)


@register.simple_tag
def bar_chart(rows: Sequence[tuple[str, int]], label: str, width: int = 320) -> SafeString:
    """A horizontal bar chart as inline SVG, with a title and a text alternative."""
    if not rows:
        return format_html('<p class="muted">{}</p>', "–")
    bar_height, gap = 18, 6
    label_width = min(190, 12 + 7 * max(len(str(name)) for name, _ in rows))
    top = max(count for _, count in rows) or 1
    height = len(rows) * (bar_height + gap)
    scale = (width - label_width - 40) / top
    bars = format_html_join(
        "",
        '<g><text x="0" y="{}" class="chart-label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"></rect>'
        '<text x="{}" y="{}" class="chart-value">{}</text></g>',
        (
            (
                i * (bar_height + gap) + 13,
                str(name)[:26],
                label_width,
                i * (bar_height + gap),
                max(1, int(count * scale)),
                bar_height,
                label_width + max(1, int(count * scale)) + 4,
                i * (bar_height + gap) + 13,
                count,
            )
            for i, (name, count) in enumerate(rows)
        ),
    )
    summary = ", ".join(f"{name}: {count}" for name, count in rows)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}: {}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        label,
        summary,
        label,
        bars,
    )


@register.filter
def get_item(mapping: Mapping[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None
