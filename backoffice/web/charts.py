"""#19: the dashboard's charts, drawn on the server as SVG (no chart library, no script).

Pure: plain data in, markup out, no Django. A chart is its title, what it counts and its
bars; each bar, and the title, link to the list behind them, filtered so that the list
shows exactly the bar's number (defect 5: a tile and a chart that disagreed). The SVG scales
to its box (``viewBox``, width 100%: a phone's 390 px as a desk's 1400), names itself with
``<title>`` and ``<desc>`` (every label with its number), and each link is named by the
label and number it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "Chart", "chart_svg"]

#: the drawing's coordinate system; the browser scales it to the width it has
WIDTH = 320
BAR_HEIGHT = 18
GAP = 6
#: room for the number after the longest bar
VALUE_ROOM = 40
#: a label longer than this is cut (the full text stays in the link's accessible name)
MAX_LABEL = 26


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its number and the list (with filters) that shows that number."""

    label: str
    value: int
    url: str = ""


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: ``key`` makes its ids unique on the page; ``url`` is the whole
    list behind it (the title's link); ``description`` says what is counted."""

    key: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    url: str = ""

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    def value_of(self, label: str) -> int:
        """The number of the bar labelled ``label`` (0 if there is none)."""
        return next((bar.value for bar in self.bars if bar.label == label), 0)


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def chart_svg(
    chart: Chart,
    *,
    number: Callable[[int], str] = str,
    empty: str = "–",
    heading: int = 2,
) -> str:
    """The chart as a ``<figure>``: a heading linking to the list, then the SVG.

    ``number`` formats a count in the page's language (``1.234`` in German); ``empty`` is
    shown instead of a chart with no bars."""
    key = _attr(chart.key)
    title = _attr(chart.title)
    head = f'<a href="{_attr(chart.url)}">{title}</a>' if chart.url else title
    parts = [
        f'<figure class="chart-figure" id="chart-{key}">',
        f'<h{heading} class="chart-title">{head}</h{heading}>',
    ]
    if not chart.bars:
        parts.append(f'<p class="muted">{_attr(empty)}</p></figure>')
        return "".join(parts)
    parts.append(_svg(chart, number))
    parts.append("</figure>")
    return "".join(parts)


def _svg(chart: Chart, number: Callable[[int], str]) -> str:
    bars = chart.bars
    key = _attr(chart.key)
    label_width = min(190, 12 + 7 * max(len(_short(bar.label)) for bar in bars))
    top = max(bar.value for bar in bars) or 1
    scale = (WIDTH - label_width - VALUE_ROOM) / top
    height = len(bars) * (BAR_HEIGHT + GAP)
    summary = ", ".join(f"{bar.label}: {number(bar.value)}" for bar in bars)
    linked = any(bar.url for bar in bars)
    # an image may not hold links (axe: nested-interactive): a chart of links is a group,
    # named by its title and described by its numbers all the same
    role = "group" if linked else "img"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="{role}" '
        f'aria-labelledby="chart-{key}-title" aria-describedby="chart-{key}-desc">',
        f'<title id="chart-{key}-title">{_attr(chart.title)}</title>',
        f'<desc id="chart-{key}-desc">{_attr(chart.description)} {_attr(summary)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = i * (BAR_HEIGHT + GAP)
        length = max(1, round(bar.value * scale)) if bar.value else 0
        shown = number(bar.value)
        drawn = (
            f'<text x="0" y="{y + 13}" class="chart-label">{_attr(_short(bar.label))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'class="chart-bar"></rect>'
            f'<text x="{label_width + length + 4}" y="{y + 13}" class="chart-value">'
            f"{_attr(shown)}</text>"
        )
        if bar.url:
            # named by what it shows, its label and its number: an aria-label would have to
            # repeat the visible text exactly (axe: label-content-name-mismatch)
            out.append(f'<a href="{_attr(bar.url)}" class="chart-link">{drawn}</a>')
        else:
            out.append(f"<g>{drawn}</g>")
    out.append("</svg>")
    return "".join(out)
