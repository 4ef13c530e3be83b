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
VALUE_CHAR = 9.5  # px: a generous average width of a character of the 17 px value text
LABEL_CHARS = 38  # longer labels are shortened on the chart; the table has them whole
INK = "#0b0c0c"
MARKED = "#1d70b8"
PLAIN = "#6f777b"  # 4.7:1 on white: bars need 3:1 to be seen (WCAG 1.4.11)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the number as written beside the bar, e.g. "12 (40%)"
    mark: str = ""  # words for a marked bar, e.g. "winner", "funded"


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> str:
    """The chart as an inline ``<svg>`` element (text escaped)."""
    top = max((b.value for b in bars), default=0) or 1
    rows = []  # (bar, its length, its words, words under the bar rather than beside it)
    for bar in bars:
        length = 0.0 if bar.value <= 0 else max(2.0, (WIDTH - VALUE_ROOM) * bar.value / top)
        words = f"{bar.shown}{' – ' + bar.mark if bar.mark else ''}"
        rows.append((bar, length, words, length + 6 + len(words) * VALUE_CHAR > WIDTH))
    height = sum(ROW + (22 if below else 0) for *_, below in rows) + 8
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" preserveAspectRatio="xMinYMin meet" focusable="false" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    y = 4
    for bar, length, words, below in rows:
        label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
        weight = ' font-weight="bold"' if bar.mark else ""
        # Words too long to sit beside the bar go on a line of their own under it.
        x, baseline = (0.0, y + 64) if below else (length + 6, y + 42)
        parts += [
            f'<text x="0" y="{y + 18}" font-size="19" fill="{INK}"{weight}>{escape(label)}</text>',
            f'<rect x="0" y="{y + 26}" width="{length:.1f}" height="{BAR}" '
            f'fill="{MARKED if bar.mark else PLAIN}"/>',
            f'<text x="{x:.1f}" y="{baseline}" font-size="17" fill="{INK}">{escape(words)}</text>',
        ]
        y += ROW + (22 if below else 0)
    parts.append("</svg>")
    return "".join(parts)


def describe(bars: Sequence[Bar], unit: str) -> str:
    """A sentence for ``<desc>``: every bar's label and number, in order."""
    if not bars:
        return f"No {unit} were recorded."
    items = [f"{b.label}: {b.shown}{' (' + b.mark + ')' if b.mark else ''}" for b in bars]
    return f"{unit.capitalize()} for each option. " + "; ".join(items) + "."
