"""Accessible SVG bar charts, drawn on the server so results pages need no JavaScript.

Each chart is an image with a name (``role="img"``, ``<title>`` and ``<desc>`` joined by
``aria-labelledby``); every bar carries its label and its number as text, and a marked bar
(a winner, a funded project) says so in words as well as by its shade, so nothing is told by
colour alone. The page shows the same numbers in a table beside it. Bars sit under their label,
so long labels fit a 320 px screen; the drawing scales down with ``viewBox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 400  # px: 1:1 on wider screens; the stylesheet shrinks it to fit (at 320 px, about 0.8)
ROW = 60  # label line, bar, gap
BAR = 20
VALUE_ROOM = 195  # room right of the longest bar for its number and mark
LABEL_CHARS = 38  # longer labels are shortened on the chart; the table has them whole
INK = "#0b0c0c"
MARKED = "#1d70b8"
PLAIN = "#b1b4b6"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the number as written beside the bar, e.g. "12 (40%)"
    mark: str = ""  # words for a marked bar, e.g. "winner", "funded"


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> str:
    """The chart as an inline ``<svg>`` element (text escaped)."""
    top = max((b.value for b in bars), default=0) or 1
    height = ROW * len(bars) + 8
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" preserveAspectRatio="xMinYMin meet" focusable="false" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = ROW * i + 4
        label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
        length = 0.0 if bar.value <= 0 else max(2.0, (WIDTH - VALUE_ROOM) * bar.value / top)
        words = f"{bar.shown}{' – ' + bar.mark if bar.mark else ''}"
        weight = ' font-weight="bold"' if bar.mark else ""
        parts += [
            f'<text x="0" y="{y + 18}" font-size="19" fill="{INK}"{weight}>{escape(label)}</text>',
            f'<rect x="0" y="{y + 26}" width="{length:.1f}" height="{BAR}" '
            f'fill="{MARKED if bar.mark else PLAIN}"/>',
            f'<text x="{length + 6:.1f}" y="{y + 42}" font-size="17" fill="{INK}">{escape(words)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def describe(bars: Sequence[Bar], unit: str) -> str:
    """A sentence for ``<desc>``: every bar's label and number, in order."""
    if not bars:
        return f"No {unit} were recorded."
    items = [f"{b.label}: {b.shown}{' (' + b.mark + ')' if b.mark else ''}" for b in bars]
    return f"{unit.capitalize()} for each option. " + "; ".join(items) + "."
