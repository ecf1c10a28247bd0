"""What the list pages' django-tables2 tables share: keyset pages instead of numbered ones (see vetpms.keyset)."""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

import django_tables2 as tables
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django_tables2 import RequestConfig
from django_tables2 import utils as tables2_utils
from django_tables2.rows import BoundRows

from vetpms.keyset import InvalidCursor, KeysetPage, keyset_page


def paginate_table(request, table, *, per_page: int) -> KeysetPage:
    """Sort ``table`` from ``?sort=`` and show the keyset page ``?cursor=`` points at (the first without one, or
    when the cursor belongs to another sort order). ``table.page`` and ``table.paginator`` are the KeysetPage."""
    RequestConfig(request, paginate=False).configure(table)
    queryset = table.data.data
    try:
        page = keyset_page(queryset, cursor=request.GET.get("cursor") or None, per_page=per_page)
    except InvalidCursor:
        page = keyset_page(queryset, cursor=None, per_page=per_page)
    page.object_list = BoundRows(page.rows, table)
    table.page = table.paginator = page
    return page


class DateColumn(tables.Column):
    """A date, or a moment's local date and time, in ``format`` (as the ``date`` template filter shows it).

    django-tables2's DateColumn and DateTimeColumn are template columns that compile a one-line template for every
    cell they draw: a 25-row client list compiled 25 templates, a sixth of its time. This one formats directly.
    """

    def __init__(self, *args: Any, format: str, **kwargs: Any) -> None:
        self.format = format
        super().__init__(*args, **kwargs)

    def render(self, value):
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value)
        return formats.date_format(value, self.format)


def table_body(table) -> SafeString:
    """The ``<tr>`` rows of a page of ``table``, as django-tables2's templates draw them, at a fraction of the cost.

    The library's template works out every cell's attributes (the column's ``td`` attrs merged with the table's,
    its classes) anew for each cell and goes through the template engine for each; here a column's attributes are
    worked out once per page, unless they are callables of the record, and each row is one string.
    """
    columns = list(table.columns)
    static: list[str | None] = []
    for column in columns:
        merged = {**dict(table.attrs), **dict(column.column.attrs)}
        td = merged.get("td", merged.get("cell", {}))
        static.append(None if any(callable(v) for v in td.values()) else str(column.attrs["td"].as_html()))
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column, attrs in zip(columns, static, strict=True):
            value = row.get_cell(column.name)
            if attrs is None:  # the column's attributes depend on the cell: as the library does it
                column.current_value, column.current_record = value, row.record
                attrs = str(column.attrs["td"].as_html())
            cells.append(f"<td {attrs}>{conditional_escape(value)}</td>")
        rows.append(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>")
    if not rows and table.empty_text:
        rows.append(f'<tr><td colspan="{len(columns)}">{conditional_escape(table.empty_text)}</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped or the library's own markup


# django-tables2 asks inspect.signature which arguments a render_<column> method, a row attribute callable or a
# column's value method accepts, for every cell of every row: about 475 calls for a 25-row client list, a fifth
# of its Python time. A function's parameters never change, so each is read once, kept as long as the function.
_signatures: weakref.WeakKeyDictionary[Any, dict[bool, Any]] = weakref.WeakKeyDictionary()
_uncached_signature = tables2_utils.signature


def _cached_signature(fn):
    function = getattr(fn, "__func__", fn)  # a bound method: one entry for every instance (self is left out)
    bound = function is not fn
    try:
        return _signatures[function][bound]
    except KeyError:
        pass
    except TypeError:  # not weakly referenceable (a builtin): ask every time
        return _uncached_signature(fn)
    result = _uncached_signature(fn)
    _signatures.setdefault(function, {})[bound] = result
    return result


def install_signature_cache() -> None:
    """Called once at start-up (vetpms.apps)."""
    tables2_utils.signature = _cached_signature
