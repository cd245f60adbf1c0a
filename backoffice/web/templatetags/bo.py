"""Template helpers: money per locale, status badges, small server-side SVG charts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from backoffice.base.refusals import refusal_text
from backoffice.core.labels import text_of
from backoffice.web.charts import Chart, chart_svg

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
def chart(drawn: Chart) -> SafeString:
    """#19: a dashboard chart (``web.charts``) as inline SVG, its numbers in the page's
    language and its text alternative in it too."""

    def number(value: int) -> str:
        return number_format(value, use_l10n=True, force_grouping=True)

    return mark_safe(chart_svg(drawn, number=number))  # noqa: S308 - chart_svg escapes every text


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
