"""vetpms.tables: the date column shows what django-tables2's template columns showed; rows drawn in one pass."""

import datetime as dt

import django_tables2 as tables
from django.template import Context, Template

from vetpms.tables import DateColumn, table_body


class Row:
    def __init__(self, pk, made, due):
        self.pk, self.made, self.due = pk, made, due


class Dates(tables.Table):
    made = DateColumn(format="j M Y H:i")
    due = DateColumn(format="j M Y", attrs={"td": {"class": "text-end"}})
    library = tables.DateTimeColumn(accessor="made", format="j M Y H:i")


def test_a_moment_shows_its_local_day_and_time_as_the_library_column_did(settings):
    settings.TIME_ZONE = "Europe/London"
    late = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)  # 00:30 the next day in London (BST)
    table = Dates([Row(1, late, dt.date(2026, 3, 29))])
    row = next(iter(table.rows))
    assert row.get_cell("made") == row.get_cell("library") == "2 Jul 2026 00:30"
    assert row.get_cell("due") == "29 Mar 2026"


def test_table_body_draws_the_cells_escaped_with_their_attributes():
    class Named(tables.Table):
        name = tables.Column(attrs={"td": {"class": "fw-bold"}})

    class Thing:
        name = "<b>Tom & Jerry</b>"

    html = table_body(Named([Thing()]))
    assert '<td class="fw-bold">&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</td>' in html
    assert table_body(Named([], empty_text="Nothing <here>")) == '<tr><td colspan="1">Nothing &lt;here&gt;</td></tr>'
    rendered = Template("{% load vetpms_tags %}{% table_body t %}").render(Context({"t": Named([Thing()])}))
    assert rendered == str(html)
