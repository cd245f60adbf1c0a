"""#19: reports as PDF (WeasyPrint): a print template rendered as HTML, then laid out in pages
with the institution in the header and the time it was made and "page x of y" in the footer.

The caller has checked that the asker may read the report, exactly as for its page, before
anything is rendered; a refusal is its page's refusal, never a PDF. The file is made whole in
memory: the reports that come as PDF (the CR-6 risk report, a verification result) are a
period's flagged decisions or a few lines, not a register that grows without end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

__all__ = ["PDF_TYPE", "pdf_download", "register_letterhead"]

PDF_TYPE = "application/pdf"

#: who the report is from (the policy's institution): the organisation app registers it in
#: ``ready``, so that apps below it (the audit trail) print it without importing it
_letterhead: list[Callable[[], str]] = []


def register_letterhead(institution: Callable[[], str]) -> None:
    """Set the function that names the institution a PDF's header shows."""
    _letterhead[:] = [institution]


def _css_text(text: str) -> str:
    """``text`` as a CSS string literal (for ``@page`` margin boxes' ``content``)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def page_counter() -> str:
    """ "Page 2 of 5" in the page's language, as a CSS ``content`` value with the counters."""
    words = _("Page %(page)s of %(pages)s")
    parts = []
    rest = words
    for name, counter in (("%(page)s", "counter(page)"), ("%(pages)s", "counter(pages)")):
        before, _found, rest = rest.partition(name)
        parts += [_css_text(before), counter]
    parts.append(_css_text(rest))
    return " ".join(parts)


def pdf_download(
    request: HttpRequest, template: str, context: Mapping[str, Any], filename: str
) -> HttpResponse:
    """``template`` (extending ``print/base.html``) as a PDF attachment named ``filename``;
    ``context["title"]`` heads each page beside the institution."""
    from weasyprint import HTML  # slow to import; only a PDF download needs it

    generated = date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT")
    institution = _letterhead[0]() if _letterhead else ""
    footer = _("Generated at %(time)s by %(person)s") % {
        "time": generated,
        "person": request.user.get_username(),
    }
    html = render_to_string(
        template,
        {
            **context,
            "institution": institution,
            "generated": generated,
            "css_institution": _css_text(institution),
            "css_title": _css_text(str(context.get("title", ""))),
            "css_footer": _css_text(footer),
            "css_pages": page_counter(),
        },
        request=request,
    )
    document = HTML(string=html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(document.write_pdf(), content_type=PDF_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
