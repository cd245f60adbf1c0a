"""Template helpers: money per locale, status badges, small server-side SVG charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from backoffice.base.refusals import refusal_text
from backoffice.core.labels import text_of

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
def bar_chart(rows: Sequence[tuple[Any, ...]], label: str, width: int = 320) -> SafeString:
    """A horizontal bar chart as inline SVG, with a title and a text alternative.

    A row is ``(name, count)`` or ``(name, count, url)``: with a url the bar links to the
    list behind it, whose number is the bar's (#19).
    """
    if not rows:
        return format_html('<p class="muted">{}</p>', "–")
    bar_height, gap = 18, 6
    label_width = min(190, 12 + 7 * max(len(str(row[0])) for row in rows))
    top = max(row[1] for row in rows) or 1
    height = len(rows) * (bar_height + gap)
    scale = (width - label_width - 40) / top
    bars = []
    for i, row in enumerate(rows):
        name, count = row[0], row[1]
        y, length = i * (bar_height + gap), max(1, int(count * scale))
        bar = format_html(
            '<text x="0" y="{}" class="chart-label">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"></rect>'
            '<text x="{}" y="{}" class="chart-value">{}</text>',
            y + 13,
            str(name)[:26],
            label_width,
            y,
            length,
            bar_height,
            label_width + length + 4,
            y + 13,
            count,
        )
        url = row[2] if len(row) > 2 else None
        if url:
            bars.append(
                format_html(
                    # named by its visible label and count (axe: label-content-name-mismatch)
                    '<a href="{}" class="chart-link">{}</a>',
                    url,
                    bar,
                )
            )
        else:
            bars.append(format_html("<g>{}</g>", bar))
    summary = ", ".join(f"{row[0]}: {row[1]}" for row in rows)
    # an image may not hold links (axe: nested-interactive): with links the chart is a group
    role = "group" if any(len(row) > 2 and row[2] for row in rows) else "img"
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="{}" '
        'aria-label="{}: {}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        role,
        label,
        summary,
        label,
        format_html_join("", "{}", ((b,) for b in bars)),
    )


@register.filter
def label(value: Any) -> str:
    """#19: a label of the policy (process, field, step) in the reader's language."""
    return text_of(value, get_language())


@register.filter
def refusal(message: Any, code: Any) -> str:
    """#19: ``{{ a.reason|refusal:a.code }}``: a refusal in the reader's language."""
    return refusal_text(str(code) if code else None, str(message or ""))


@register.filter
def get_item(mapping: Mapping[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def iso_date(value: Any) -> Any:
    """An ISO date kept as text in a payload ("2026-12-10") as a date, so that ``date``
    shows it in the page's format (#19); anything else unchanged."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


@register.filter
def person(login: Any) -> str:
    """A login as the person's name ("lena.schulz" -> "Lena Schulz"); unknown ones as given."""
    from backoffice.org.queries import display_names

    text = str(login or "")
    return display_names().get(text, text)


@register.filter
def iban(value: Any) -> str:
    """An IBAN in groups of four ("DE89 3704 0044 0532 0130 00"), as people read it."""
    text = "".join(str(value or "").split()).upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@register.filter
def diff_lines(text: Any) -> SafeString:
    """A unified diff with its added, removed and hunk lines marked for colour (#19)."""
    lines = []
    for line in str(text or "").splitlines():
        kind = ""
        if line.startswith("+") and not line.startswith("+++"):
            kind = "add"
        elif line.startswith("-") and not line.startswith("---"):
            kind = "del"
        elif line.startswith("@@"):
            kind = "hunk"
        if kind:
            lines.append(format_html('<span class="{}">{}</span>', kind, line))
        else:
            lines.append(format_html("{}\n", line))
    return format_html_join("", "{}", ((line,) for line in lines))
