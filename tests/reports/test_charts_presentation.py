"""Report charts drawn on the server: the SVG geometry for the page (bars, grouped bars, stacked bars, lines, ticks,
legend, text alternative) and the reportlab drawing for the PDF, both on one scale."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from reportlab.graphics import renderPDF

from reports.base import Chart, ReportParams
from reports.charts import HEIGHT, LEFT, TOP, WIDTH, chart_drawing, label_every, svg_chart, tick_label, value_scale

D = Decimal
PARAMS = ReportParams(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))


def chart(kind="bar", categories=("Jan", "Feb", "Mar"), series=None) -> Chart:
    series = series or [("2025", [D("1200.50"), D("800.00"), D("2000.00")])]
    return Chart(kind, "Net revenue by month", "Month", "Net (£)", list(categories), series)


def render(c: Chart) -> str:
    return render_to_string("reports/_chart.html", {"svg": svg_chart(c), "cid": "t"})


def test_nothing_to_draw_is_none():
    assert svg_chart(None) is None
    assert svg_chart(chart(categories=[], series=[("2025", [])])) is None


def test_a_bar_per_value_whose_height_follows_the_value():
    svg = svg_chart(chart())
    assert len(svg.bars) == 3
    heights = [b.height for b in svg.bars]
    assert heights[2] > heights[0] > heights[1] > 0
    # Bars stand on the zero line and stay inside the plot.
    for b in svg.bars:
        assert b.y + b.height == pytest.approx(svg.zero_y)
        assert b.x >= LEFT and b.x + b.width <= WIDTH and b.y >= TOP
    assert heights[2] / heights[1] == pytest.approx(2000 / 800)
    assert svg.bars[0].title == "2025, Jan: 1,200.50"


def test_grouped_bars_sit_side_by_side_in_their_category_with_a_legend():
    c = chart(series=[("This year", [D(1), D(2), D(3)]), ("Last year", [D(3), D(2), D(1)])])
    svg = svg_chart(c)
    assert len(svg.bars) == 6
    this_jan, last_jan = svg.bars[0], svg.bars[3]
    assert this_jan.css == "s0" and last_jan.css == "s1"
    assert last_jan.x == pytest.approx(this_jan.x + this_jan.width + 1)
    assert svg.bars[1].x > last_jan.x  # February comes after both January bars
    assert [item.name for item in svg.legend] == ["This year", "Last year"]
    assert svg.legend[1].x > svg.legend[0].x


def test_negative_values_go_below_the_zero_line():
    svg = svg_chart(chart(series=[("Net", [D("500"), D("-250"), D("0")])]))
    scale = value_scale(chart(series=[("Net", [D("500"), D("-250"), D("0")])]))
    assert scale.low < 0 < scale.high
    up, down, flat = svg.bars
    assert up.y + up.height == pytest.approx(svg.zero_y)
    assert down.y == pytest.approx(svg.zero_y) and down.height > 0
    assert flat.height == pytest.approx(0)
    assert any(t.label.startswith("-") for t in svg.y_ticks)


def test_stacked_bars_pile_up_per_category():
    c = chart(kind="stacked_bar", series=[("Client", [D(60), D(10), D(0)]), ("Insurer", [D(40), D(30), D(5)])])
    svg = svg_chart(c)
    client_jan, insurer_jan = svg.bars[0], svg.bars[3]
    assert insurer_jan.x == client_jan.x  # the same column
    assert insurer_jan.y + insurer_jan.height == pytest.approx(client_jan.y)  # on top of it
    assert value_scale(c).high >= 100


def test_a_line_per_series_through_each_category():
    c = chart(kind="line", series=[("Net", [D(1), D(3), D(2)]), ("Last year", [D(2), D(2), D(2)])])
    svg = svg_chart(c)
    assert not svg.bars and len(svg.lines) == 2
    xs = [x for x, _, _ in svg.lines[0].points]
    assert xs == sorted(xs) and len(xs) == 3
    assert re.fullmatch(r"[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+", svg.lines[0].polyline)
    ys = [y for _, y, _ in svg.lines[1].points]
    assert ys[0] == ys[1] == ys[2]


def test_ticks_are_round_readable_numbers_on_one_unit():
    assert tick_label(12000, 2500, 12500) == "12.0k"
    assert tick_label(7500, 2500, 12500) == "7.5k"
    assert tick_label(2500, 500, 2500) == "2,500"
    assert tick_label(0.25, 0.25, 1) == "0.25"
    assert tick_label(3_000_000, 1_000_000, 4_000_000) == "3M"
    scale = value_scale(chart(series=[("Net", [D("9876.54")])]))
    assert scale.low == 0 and scale.high >= 9876.54 and scale.high < 9876.54 * 1.3
    assert len(scale.ticks()) <= 7


def test_many_categories_label_only_some_ticks_and_cut_long_names():
    months = [f"Month {i:02d}" for i in range(1, 121)]
    svg = svg_chart(chart(kind="line", categories=months, series=[("Net", [D(i) for i in range(120)])]))
    assert len(svg.x_ticks) <= 12
    assert label_every(120) == 10
    long = svg_chart(chart(categories=["A very long vet name indeed, MRCVS"] * 12, series=[("N", [D(1)] * 12)]))
    assert all(t.label.endswith("…") and len(t.label) * 6.6 < long.plot_right - LEFT for t in long.x_ticks)
    days = [f"{d} Jul 2026" for d in range(1, 32)] + [f"{d} Aug 2026" for d in range(1, 32)]
    day_ticks = svg_chart(chart(categories=days, series=[("Net", [D(1)] * len(days))])).x_ticks
    assert day_ticks[0].label == "1 Jul 2026"
    assert all("…" not in t.label for t in day_ticks)  # whole dates, spaced out instead of cut
    gaps = [b.pos - a.pos for a, b in itertools.pairwise(day_ticks)]
    assert min(gaps) >= len("30 Aug 2026") * 6.6


def test_the_svg_has_title_description_axis_titles_and_no_inline_style_or_script():
    c = chart(series=[("This year", [D(1), D(2), D(3)]), ("<b>Last</b> year", [D(3), D(2), D(1)])])
    html = render(c)
    assert '<title id="t-title">Net revenue by month</title>' in html
    assert 'aria-labelledby="t-title t-desc"' in html and 'role="img"' in html
    desc = re.search(r'<desc id="t-desc">(.*?)</desc>', html).group(1)
    assert desc.startswith("Net revenue by month. This year: Jan: 1, Feb: 2, Mar: 3;")
    assert ">Month</text>" in html and ">Net (£)</text>" in html
    assert "&lt;b&gt;Last&lt;/b&gt; year" in html and "<b>" not in html  # autoescaped
    assert "style=" not in html and "<script" not in html and "<style" not in html
    assert html.count('class="bar s0"') == 3 and html.count('class="bar s1"') == 3
    assert f'viewBox="0 0 {WIDTH} {HEIGHT}"' in html
    assert 'class="visually-hidden">' in html  # the text alternative as a caption for screen readers


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line"])
def test_the_pdf_drawing_renders_every_kind(kind):
    c = chart(kind=kind, series=[("This", [D("1.5"), D("-2"), D("3")]), ("Before", [D(1), D(1), D(1)])])
    drawing = chart_drawing(c, 480, 200)
    body = renderPDF.drawToString(drawing)
    assert body.startswith(b"%PDF")
    assert drawing.width == 480 and drawing.height == 200


def test_zero_is_written_plainly():
    assert tick_label(0.0, 2500, 12500) == "0"
    assert tick_label(1e-12, 0.5, 2) == "0"
