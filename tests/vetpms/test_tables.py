"""vetpms.tables: the date column shows what django-tables2's template columns showed; rows drawn in one pass."""

import datetime as dt

import django_tables2 as tables
import pytest
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


def _cells_both_ways(table):
    """Each cell of ``table`` as table_body's per-column drawer makes it and as django-tables2 makes it."""
    from vetpms.tables import _cell_drawer, _Fallback

    model = table._meta.model
    ours, theirs, fell_back = [], [], 0
    for row in table.paginated_rows:
        for column in table.columns:
            draw = _cell_drawer(table, column, model)
            try:
                if draw is None:
                    raise _Fallback
                ours.append(str(draw(row)))
            except _Fallback:
                fell_back += 1
                ours.append(str(row.get_cell(column.name)))
            theirs.append(str(row.get_cell(column.name)))
    return ours, theirs, fell_back


@pytest.mark.django_db
def test_the_client_lists_cells_are_the_librarys_own(receptionist):
    """Every cell of the client list drawn the quick way equals the library's, over rows that reach the unusual
    branches (an organisation, no email, an inactive client, markup in a name), and none of
    its cells needs the library's path."""
    from clients import selectors as client_selectors
    from clients.tables import ClientTable
    from tests.factories import AnimalFactory, ClientFactory

    ClientFactory(organisation="Hill <Top> Farm", first_name="", last_name="", email="")
    ClientFactory(is_active=False, last_name="O'Brien & Sons")
    AnimalFactory(name="Rex")
    table = ClientTable(client_selectors.client_list())
    ours, theirs, fell_back = _cells_both_ways(table)
    assert ours == theirs and len(ours) == 7 * 3 and fell_back == 0
    assert any("Inactive" in cell for cell in ours) and any("mailto:" in cell for cell in ours)


def test_pk_url_is_reverse_with_the_id_put_in():
    from django.urls import reverse, set_script_prefix

    from vetpms.tables import pk_url

    for name in ("clients:detail", "invoicing:detail", "invoicing:account", "animals:detail"):
        for pk in (1, 42, 987654321, 10**12):
            assert pk_url(name, pk) == reverse(name, args=[pk])
    set_script_prefix("/practice/")
    try:
        assert pk_url("clients:detail", 7) == reverse("clients:detail", args=[7]) == "/practice/clients/7/"
    finally:
        set_script_prefix("/")
