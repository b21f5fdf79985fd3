"""Chart geometry for the managers' page, drawn as SVG by `templates/analytics/chart.html`.

Pure layout: rectangles, lines and texts in a viewBox, with CSS classes for the looks
(`static/css/analytics.css`; the CSP forbids inline styles). Every chart prints its values as
text, so nothing is told by colour alone, and the page shows the same data as a table.
Labels arrive already formatted for the reader's language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

LABEL_WIDTH = 240
PLOT_WIDTH = 460
CELL_WIDTH, CELL_HEIGHT = 44, 30
BAR_HEIGHT, BAR_GAP = 12, 10
COLUMN_AREA_HEIGHT = 180
HEAT_LEVELS = 6


@dataclass(frozen=True)
class Rect:
    """A rectangle; `title` becomes its tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str = ""


@dataclass(frozen=True)
class Line:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    css: str


@dataclass(frozen=True)
class Text:
    """A label; `anchor` is SVG's text-anchor (start, middle, end)."""

    x: float
    y: float
    text: str
    css: str = ""
    anchor: str = "start"


@dataclass
class Chart:
    """One SVG: its size, shapes and a legend of (css class, label)."""

    width: float
    height: float
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def heatmap(values: Mapping[tuple[int, int], float], row_labels: Mapping[int, str],
            column_labels: Mapping[int, str], number: Callable[[float], str]) -> Chart:
    """A grid of rows (weekdays) × columns (hours); darker cells hold more, and each cell
    prints its value."""
    rows = sorted(row_labels)
    columns = sorted(column_labels)
    left, top = 64, 26
    chart = Chart(left + CELL_WIDTH * len(columns) + 4, top + CELL_HEIGHT * len(rows) + 4)
    peak = max(values.values(), default=0) or 1
    for x, column in enumerate(columns):
        chart.texts.append(Text(left + CELL_WIDTH * (x + 0.5), top - 8, column_labels[column],
                                "axis", "middle"))
    for y, row in enumerate(rows):
        chart.texts.append(Text(left - 8, top + CELL_HEIGHT * (y + 0.65), row_labels[row],
                                "axis", "end"))
        for x, column in enumerate(columns):
            value = values.get((row, column), 0)
            level = 0 if value <= 0 else min(HEAT_LEVELS - 1,
                                             1 + int(value / peak * (HEAT_LEVELS - 2)))
            cell_x, cell_y = left + CELL_WIDTH * x, top + CELL_HEIGHT * y
            label = f"{row_labels[row]} {column_labels[column]}: {number(value)}"
            chart.rects.append(Rect(cell_x, cell_y, CELL_WIDTH - 2, CELL_HEIGHT - 2,
                                    f"heat heat-{level}", label))
            if value:
                chart.texts.append(Text(cell_x + CELL_WIDTH / 2 - 1, cell_y + CELL_HEIGHT * 0.62,
                                        number(value), "cell" + (" on-dark" if level >= 3
                                                                 else ""), "middle"))
    return chart


@dataclass(frozen=True)
class BarRow:
    """One row of a bar chart: its label and one value per series (None: not measured)."""

    label: str
    values: Sequence[float | None]
    texts: Sequence[str]


def bars(rows: Sequence[BarRow], series: Sequence[tuple[str, str]]) -> Chart:
    """Horizontal bars: per row one bar per series, each with its value written after it."""
    per_row = len(series) * BAR_HEIGHT + BAR_GAP
    chart = Chart(LABEL_WIDTH + PLOT_WIDTH + 90, 8 + per_row * len(rows),
                  legend=list(series))
    peak = max((v for row in rows for v in row.values if v), default=0) or 1
    for index, row in enumerate(rows):
        top = 4 + index * per_row
        chart.texts.append(Text(LABEL_WIDTH - 8, top + len(series) * BAR_HEIGHT / 2 + 4,
                                row.label, "axis", "end"))
        for number, ((css, name), value, text) in enumerate(zip(series, row.values, row.texts,
                                                                strict=True)):
            y = top + number * BAR_HEIGHT
            width = PLOT_WIDTH * (value or 0) / peak
            chart.rects.append(Rect(LABEL_WIDTH, y, max(width, 1), BAR_HEIGHT - 2,
                                    f"bar {css}", f"{row.label} – {name}: {text}"))
            chart.texts.append(Text(LABEL_WIDTH + width + 4, y + BAR_HEIGHT - 3, text,
                                    "value"))
    chart.lines.append(Line(LABEL_WIDTH, 0, LABEL_WIDTH, chart.height, "axis-line"))
    return chart


@dataclass(frozen=True)
class ColumnGroup:
    """One slot of a column chart (an hour): a value per series, their texts and a note
    written under the axis (e.g. "▲ under-staffed")."""

    label: str
    values: Sequence[float | None]
    texts: Sequence[str]
    note: str = ""
    note_css: str = ""


def text_width(text: str) -> float:
    """About how wide a text is at 11 px: 7 px a character, 12 px a full-width one (kana,
    kanji), so Japanese notes under neighbouring columns do not run into each other."""
    return sum(12 if unicodedata.east_asian_width(char) in "WF" else 7 for char in text)


def columns(groups: Sequence[ColumnGroup], series: Sequence[tuple[str, str]]) -> Chart:
    """Vertical grouped columns, one group per slot, values written above each column."""
    longest = max((text_width(text) for group in groups for text in (group.note, group.label)),
                  default=0)
    width_each = max(16 * len(series) + 14, longest + 10)
    left, top, bottom = 8, 22, 44
    chart = Chart(left + width_each * max(len(groups), 1) + 8,
                  top + COLUMN_AREA_HEIGHT + bottom, legend=list(series))
    peak = max((v for group in groups for v in group.values if v), default=0) or 1
    base = top + COLUMN_AREA_HEIGHT
    for index, group in enumerate(groups):
        x0 = left + index * width_each + (width_each - 16 * len(series)) / 2
        for number, ((css, name), value, text) in enumerate(zip(series, group.values,
                                                                group.texts, strict=True)):
            height = COLUMN_AREA_HEIGHT * (value or 0) / peak
            x = x0 + number * 16
            chart.rects.append(Rect(x, base - height, 14, max(height, 1), f"bar {css}",
                                    f"{group.label} – {name}: {text}"))
            chart.texts.append(Text(x + 7, base - height - 4, text, "value small", "middle"))
        middle = x0 + 8 * len(series) - 1
        chart.texts.append(Text(middle, base + 16, group.label, "axis", "middle"))
        if group.note:
            chart.texts.append(Text(middle, base + 34, group.note, f"note {group.note_css}",
                                    "middle"))
    chart.lines.append(Line(left, base, chart.width - 8, base, "axis-line"))
    return chart
