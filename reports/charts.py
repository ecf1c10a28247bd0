"""Charts of the reports, drawn on the server from a ``reports.base.Chart``: one scale, two renderings.

- ``svg_chart(chart)`` computes the geometry of an SVG for the page (bars, lines, ticks, legend); the template
  ``reports/_chart.html`` draws it. No JavaScript, no CDN, and no inline style (the CSP forbids it): colours are
  the classes ``s0``..``s5`` in vetpms/static/vetpms/app.css, and every piece of text goes through the template's
  autoescaping.
- ``chart_drawing(chart, width, height)`` builds the same chart as a reportlab Drawing for the PDF.

Both use ``value_scale`` so the page and the PDF show the same axis. Values become floats here and only here:
a float is a position on the screen, never an amount (the amounts themselves stay Decimal in the tables).

Kinds: ``bar`` (one series, or several side by side, e.g. this period against the same period a year before),
``stacked_bar`` (series on top of each other; negative values stack downwards) and ``line``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from reports.base import Chart

WIDTH = 760
HEIGHT = 330
LEFT, RIGHT, TOP, BOTTOM = 76, 16, 40, 58  # room for tick labels (left), the legend (top) and the x labels (bottom)
MAX_X_LABELS = 12
CHAR_WIDTH = 6.6  # average width of a 12px character, to fit labels without measuring fonts
PDF_CHAR_WIDTH = 4.0  # the same for the PDF's 7 pt labels
LONGEST_LABEL = 18  # longer category names are cut (with "…") rather than spacing the labels out further
SERIES_CLASSES = 6

# The same palette as the CSS classes s0..s5 (app.css), for the PDF.
PALETTE = ["#1f6f78", "#d08a2e", "#6c5ba7", "#5b8f3a", "#b5485d", "#4a7bb7"]


# --- The scale shared by both renderings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    step: float

    @property
    def top(self) -> float:
        return max(abs(self.low), abs(self.high))

    def label(self, value: float) -> str:
        return tick_label(value, self.step, self.top)

    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + i * self.step for i in range(count + 1)]


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _extent(chart: Chart) -> tuple[float, float]:
    """Lowest and highest value the axis must show (always including zero, so bars start at the axis)."""
    if chart.kind == "stacked_bar":
        ups = [0.0] * len(chart.categories)
        downs = [0.0] * len(chart.categories)
        for _, values in chart.series:
            for i, v in enumerate(values[: len(chart.categories)]):
                f = float(v or 0)
                if f >= 0:
                    ups[i] += f
                else:
                    downs[i] += f
        return min([0.0, *downs]), max([0.0, *ups])
    values = [float(v or 0) for _, vs in chart.series for v in vs]
    return min([0.0, *values]), max([0.0, *values])


def value_scale(chart: Chart) -> Scale:
    low, high = _extent(chart)
    if high - low < 1e-9:
        high = low + 1
    step = _nice_step(high - low)
    if step < 1 and all(isinstance(v, int) for _, values in chart.series for v in values):
        step = 1.0  # counts: no ticks between whole numbers
    return Scale(math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, step)


def tick_label(value: float, step: float, top: float | None = None) -> str:
    """Readable axis numbers: 1,500 / 12.5k / 2M, one unit for the whole axis (``top``: its largest size).
    Exact figures live in the table, so ticks may abbreviate."""
    if abs(value) < step / 1e6:
        return "0"
    size = max(abs(top if top is not None else value), step)
    if size >= 1_000_000:
        divisor, suffix = 1_000_000, "M"
    elif size >= 10_000:
        divisor, suffix = 1000, "k"
    else:
        divisor, suffix = 1, ""
    unit_step = step / divisor
    decimals = 0 if unit_step >= 1 else min(3, max(0, -math.floor(math.log10(unit_step) + 1e-9)))
    if decimals < 3 and round(unit_step * 10**decimals, 6) % 1:
        decimals += 1  # a step of 0.25 needs two places
    return f"{value / divisor:,.{decimals}f}{suffix}"


def label_every(
    count: int, limit: int = MAX_X_LABELS, *, labels=(), band: float = 0, char_width: float = CHAR_WIDTH
) -> int:
    """Label every n-th category: at most ``limit`` labels, and far enough apart (``band``: the width of one
    category) for the longest label, up to LONGEST_LABEL characters, to be written whole. Every category keeps its
    full name in the bars' <title>s and in the table."""
    every = max(1, math.ceil(count / limit))
    if band > 0 and labels:
        longest = min(max(len(str(label)) for label in labels), LONGEST_LABEL)
        every = max(every, math.ceil((longest * char_width + 8) / band))
    return every


def _fit(text: str, width: float, char_width: float = CHAR_WIDTH) -> str:
    room = max(3, int(width / char_width))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _plain(value: Decimal | int | None) -> str:
    if value is None:
        return "0"
    if isinstance(value, Decimal):
        return f"{value:,f}"
    return f"{value:,}"


# --- SVG geometry for the page --------------------------------------------------------------------------------


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Line:
    css: str
    name: str
    points: list[tuple[float, float, str]]  # x, y, title

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass
class LegendItem:
    x: float
    css: str
    name: str


@dataclass
class SvgChart:
    kind: str
    title: str
    x_label: str
    y_label: str
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_right: int = WIDTH - RIGHT
    x_axis_y: float = HEIGHT - BOTTOM
    zero_y: float = HEIGHT - BOTTOM
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)

    @property
    def x_title_x(self) -> float:
        return (self.left + self.plot_right) / 2

    @property
    def y_title_y(self) -> float:
        return (self.top + self.x_axis_y) / 2

    @property
    def x_title_y(self) -> int:
        return self.height - 6

    @property
    def legend_y(self) -> int:
        return 14


def svg_chart(chart: Chart | None) -> SvgChart | None:
    """The geometry of ``chart`` for reports/_chart.html; None when there is nothing to draw."""
    if chart is None or not chart.categories or not chart.series:
        return None
    scale = value_scale(chart)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    svg = SvgChart(chart.kind, chart.title, chart.x_label, chart.y_label, chart.text_alternative())

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - scale.low) / (scale.high - scale.low))

    svg.zero_y = y_of(0.0)
    svg.y_ticks = [Tick(y_of(t), scale.label(t)) for t in scale.ticks()]

    n = len(chart.categories)
    band = plot_w / n
    every = label_every(n, labels=chart.categories, band=band)
    svg.x_ticks = [
        Tick(LEFT + band * (i + 0.5), _fit(str(name), band * every - 4))
        for i, name in enumerate(chart.categories)
        if i % every == 0
    ]

    series = [(name, [float(v or 0) for v in values], list(values)) for name, values in chart.series]
    if chart.kind == "line":
        for s, (name, floats, raw) in enumerate(series):
            points = [
                (LEFT + band * (i + 0.5), y_of(f), f"{name}, {chart.categories[i]}: {_plain(raw[i])}")
                for i, f in enumerate(floats[:n])
            ]
            svg.lines.append(Line(f"s{s % SERIES_CLASSES}", name, points))
    elif chart.kind == "stacked_bar":
        bar_w = band * 0.6
        ups, downs = [0.0] * n, [0.0] * n
        for s, (name, floats, raw) in enumerate(series):
            for i, f in enumerate(floats[:n]):
                base = ups[i] if f >= 0 else downs[i]
                top_value, bottom_value = (base + f, base) if f >= 0 else (base, base + f)
                if f >= 0:
                    ups[i] += f
                else:
                    downs[i] += f
                svg.bars.append(
                    Bar(
                        LEFT + band * i + (band - bar_w) / 2,
                        y_of(top_value),
                        bar_w,
                        y_of(bottom_value) - y_of(top_value),
                        f"s{s % SERIES_CLASSES}",
                        f"{name}, {chart.categories[i]}: {_plain(raw[i])}",
                    )
                )
    else:  # bar: the series side by side within each category
        group_w = band * 0.72
        bar_w = group_w / len(series)
        for s, (name, floats, raw) in enumerate(series):
            for i, f in enumerate(floats[:n]):
                y0, y1 = sorted((y_of(f), svg.zero_y))
                svg.bars.append(
                    Bar(
                        LEFT + band * i + (band - group_w) / 2 + bar_w * s,
                        y0,
                        max(bar_w - 1, 1),
                        y1 - y0,
                        f"s{s % SERIES_CLASSES}",
                        f"{name}, {chart.categories[i]}: {_plain(raw[i])}",
                    )
                )

    x = float(LEFT)
    for s, (name, _, _) in enumerate(series):
        svg.legend.append(LegendItem(x, f"s{s % SERIES_CLASSES}", name))
        x += 24 + CHAR_WIDTH * len(name)
    return svg


# --- reportlab Drawing for the PDF ----------------------------------------------------------------------------


def chart_drawing(chart: Chart, width: float, height: float, font: str = "Helvetica"):
    """The chart as a reportlab Drawing of ``width`` x ``height`` points, with axis titles and a legend."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, Group, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    scale = value_scale(chart)
    muted = colors.HexColor("#495057")
    drawing = Drawing(width, height)
    left, bottom, top = 58, 36, 24
    if chart.kind == "line":
        plot = HorizontalLineChart()
    else:
        plot = VerticalBarChart()
        plot.groupSpacing = 6
        plot.barSpacing = 1
        if chart.kind == "stacked_bar":
            plot.categoryAxis.style = "stacked"
    plot.x, plot.y = left, bottom
    plot.width, plot.height = width - left - 8, height - bottom - top
    n = len(chart.categories)
    plot.data = [tuple(float(v or 0) for v in values[:n]) for _, values in chart.series]
    band = plot.width / max(n, 1)
    every = label_every(n, 14, labels=chart.categories, band=band, char_width=PDF_CHAR_WIDTH)
    plot.categoryAxis.categoryNames = [
        _fit(str(c), band * every - 4, PDF_CHAR_WIDTH) if i % every == 0 else "" for i, c in enumerate(chart.categories)
    ]
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7
    plot.categoryAxis.labels.fillColor = muted
    plot.categoryAxis.labels.boxAnchor = "n"
    plot.categoryAxis.labels.dy = -3
    plot.categoryAxis.strokeColor = colors.HexColor("#6c757d")
    plot.valueAxis.valueMin, plot.valueAxis.valueMax, plot.valueAxis.valueStep = scale.low, scale.high, scale.step
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.labels.fillColor = muted
    plot.valueAxis.labelTextFormat = scale.label
    plot.categoryAxis.labelAxisMode = "low"  # names under the plot, not on the zero line among negative bars
    plot.valueAxis.visibleGrid = True
    plot.valueAxis.gridStrokeColor = colors.HexColor("#e3e7ea")
    plot.valueAxis.strokeColor = colors.HexColor("#6c757d")
    for i in range(len(chart.series)):
        colour = colors.HexColor(PALETTE[i % len(PALETTE)])
        if chart.kind == "line":
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.6
            plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
        else:
            plot.bars[i].fillColor = colour
            plot.bars[i].strokeColor = None
    drawing.add(plot)

    drawing.add(String(left + plot.width / 2, 4, chart.x_label, fontName=font, fontSize=8, textAnchor="middle"))
    y_title = Group(String(0, 0, chart.y_label, fontName=font, fontSize=8, textAnchor="middle"))
    y_title.translate(10, bottom + plot.height / 2)
    y_title.rotate(90)
    drawing.add(y_title)

    legend = Legend()
    legend.fontName, legend.fontSize = font, 8
    legend.alignment = "right"
    legend.x, legend.y = left, height - 6
    legend.dx = legend.dy = 7
    legend.deltax = 0
    legend.columnMaximum = 1
    legend.boxAnchor = "nw"
    legend.strokeWidth = 0
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[i % len(PALETTE)]), name) for i, (name, _) in enumerate(chart.series)
    ]
    drawing.add(legend)
    return drawing
