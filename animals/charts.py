"""The weight chart: geometry for a small SVG line chart, computed here and drawn by a template.

Server-rendered, so it needs no JavaScript library and no CDN, and the template's autoescaping covers every piece of
text in it. Dates run left to right in proportion to time; the kg axis starts at a round number below the lightest
weight so small changes (which matter in a 4 kg cat) stay visible.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 46


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class WeightChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, kg label, date label
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    summary: str = ""

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in self.points)

    @property
    def marks(self) -> list[tuple[str, str, str, str]]:
        """The points with their coordinates written to one decimal, as the SVG wants them."""
        return [(f"{x:.1f}", f"{y:.1f}", kg, day) for x, y, kg, day in self.points]

    @property
    def x_axis_y(self) -> int:
        return self.height - self.bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def x_title_x(self) -> float:
        return (self.left + self.plot_right) / 2

    @property
    def y_title_y(self) -> float:
        return (self.top + self.x_axis_y) / 2


def _nice_step(span: float, count: int = 4) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _kg(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def weight_chart(
    weights, *, count: int | None = None, lightest: Decimal | None = None, heaviest: Decimal | None = None
) -> WeightChart | None:
    """Chart geometry for ``weights`` (rows with ``measured_on``, ``kg`` and ``pk``, in any order); None when there
    is nothing to draw. When ``weights`` is a sample of the animal's weights (animals.selectors.weight_overview),
    ``count``, ``lightest`` and ``heaviest`` describe all of them: the kg axis and the summary use those."""
    rows = sorted(weights, key=lambda w: (w.measured_on, w.pk or 0))
    if not rows:
        return None
    kgs = [float(Decimal(w.kg)) for w in rows]
    shown = len(rows)
    total = max(count or shown, shown)
    lowest = float(lightest) if lightest is not None else min(kgs)
    highest = float(heaviest) if heaviest is not None else max(kgs)
    low, high = lowest, highest
    if high - low < 0.1:
        low, high = max(0.0, low - 1), high + 1
    step = _nice_step(high - low)
    y_min = math.floor(low / step) * step
    y_max = math.ceil(high / step) * step
    if y_max == y_min:
        y_max = y_min + step

    first, last = rows[0].measured_on, rows[-1].measured_on
    days = max((last - first).days, 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x_of(day: dt.date) -> float:
        if first == last:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (day - first).days / days

    def y_of(kg: float) -> float:
        return TOP + plot_h * (1 - (kg - y_min) / (y_max - y_min))

    chart = WeightChart(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM)
    chart.points = [
        (x_of(w.measured_on), y_of(kg), _kg(kg), w.measured_on.strftime("%-d %b %Y"))
        for w, kg in zip(rows, kgs, strict=True)
    ]
    value = y_min
    while value <= y_max + step / 1000:
        chart.y_ticks.append(Tick(y_of(value), _kg(round(value, 3))))
        value += step

    if first == last:
        chart.x_ticks = [Tick(x_of(first), first.strftime("%-d %b %Y"))]
    else:
        count = min(5, len({w.measured_on for w in rows}))
        for i in range(count):
            day = first + dt.timedelta(days=round(days * i / max(count - 1, 1)))
            chart.x_ticks.append(Tick(x_of(day), day.strftime("%-d %b %Y")))

    latest = rows[-1]
    chart.summary = (
        f"{total} weight{'s' if total != 1 else ''} from {first:%-d %b %Y} to {last:%-d %b %Y}; "
        f"lowest {_kg(lowest)} kg, highest {_kg(highest)} kg, latest {_kg(kgs[-1])} kg on "
        f"{latest.measured_on:%-d %b %Y}."
        + (f" The chart shows {shown} of them, evenly spread." if shown < total else "")
    )
    return chart
