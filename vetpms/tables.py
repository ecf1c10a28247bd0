"""What the list pages' django-tables2 tables share: keyset pages instead of numbered ones (see vetpms.keyset)."""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable
from typing import Any

import django_tables2 as tables
from django.conf import settings
from django.db.models import Model
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django_tables2 import RequestConfig
from django_tables2 import utils as tables2_utils
from django_tables2.columns import ManyToManyColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn
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


_PK_MARK = 987654321


@functools.lru_cache(maxsize=128)
def _url_pattern(name: str, prefix: str, urlconf: str) -> str:
    return reverse(name, args=[_PK_MARK], urlconf=urlconf)


def pk_url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a URL whose one argument is a row's id, its pattern reversed once per script
    prefix and URL configuration and the id put in: a list reverses the same URL for every row it draws."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_pattern(name, get_script_prefix(), urlconf).replace(str(_PK_MARK), str(pk))


_CELL_ARGUMENTS = frozenset({"value", "record", "column", "bound_column", "bound_row", "table"})


class _Fallback(Exception):
    """This cell needs the library's own path (BoundRow.get_cell)."""


def _cell_drawer(table, bound_column, model) -> Callable[[Any], Any] | None:
    """A function drawing one column's cell from a row as ``BoundRow.get_cell`` does, with what does not change
    from row to row (the accessor's path, whether the value is a choice's label, the render method and the
    arguments it takes, the empty values and default) worked out once per page. None when the column needs the
    library's own path: a many-to-many column, a render method asking for something unknown.

    Per row it reads the accessor's path attribute by attribute (the library tries a dictionary lookup first,
    which a model instance refuses), and hands anything unusual (a callable on the way, a missing attribute, a
    record of another class) to the library."""
    column = bound_column.column
    if model is None or isinstance(column, ManyToManyColumn):
        return None
    render = bound_column.render
    names, catch_all = tables2_utils.signature(render)
    if not catch_all and not set(names) <= _CELL_ARGUMENTS:
        return None
    wanted = _CELL_ARGUMENTS if catch_all else frozenset(names)
    bits = tuple(bound_column.accessor.bits)
    if not bits:
        return None
    head, last = bits[:-1], bits[-1]
    field = bound_column.accessor.get_field(model)
    choices = bool(getattr(field, "choices", ()))
    display = f"get_{last}_display"
    empty_values, default, link = column.empty_values, bound_column.default, bound_column.link
    link_text = isinstance(column, BaseLinkColumn) and column.text is not None

    def draw(row):
        record = row.record
        if record.__class__ is not model:
            raise _Fallback
        penultimate = record
        for bit in head:
            penultimate = getattr(penultimate, bit, _Fallback)
            if penultimate is _Fallback or callable(penultimate):
                raise _Fallback
            if penultimate is None:
                break
        value = None
        display_fn = getattr(penultimate, display, None) if choices and isinstance(penultimate, Model) else None
        if display_fn is not None:
            value = display_fn()
        elif penultimate is not None:
            try:
                value = getattr(penultimate, last)
            except AttributeError:  # a column drawn from the record alone (render_<name>): no value, as the library
                if not link_text:
                    value = None
                else:
                    return draw_with(row, record, None)
            except Exception as exc:
                raise _Fallback from exc
            if callable(value):
                raise _Fallback
        if value in empty_values:
            return default
        return draw_with(row, record, value)

    def draw_with(row, record, value):
        arguments = {"value": value, "record": record, "column": column, "bound_column": bound_column}
        arguments |= {"bound_row": row, "table": table}
        content = render(**{k: v for k, v in arguments.items() if k in wanted})
        return link(content, **arguments) if link else content

    return draw


def table_body(table) -> SafeString:
    """The ``<tr>`` rows of a page of ``table``, as django-tables2's templates draw them, at a fraction of the cost.

    The library's template works out every cell's attributes (the column's ``td`` attrs merged with the table's,
    its classes) anew for each cell and goes through the template engine for each; here a column's attributes are
    worked out once per page, unless they are callables of the record, and each row is one string. Each cell's
    value is drawn as the library draws it, with what stays the same for a column worked out once (``_cell_drawer``).
    """
    columns = list(table.columns)
    model = getattr(table._meta, "model", None)
    static: list[str | None] = []
    drawers = []
    for column in columns:
        merged = {**dict(table.attrs), **dict(column.column.attrs)}
        td = merged.get("td", merged.get("cell", {}))
        static.append(None if any(callable(v) for v in td.values()) else str(column.attrs["td"].as_html()))
        drawers.append(_cell_drawer(table, column, model))
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column, attrs, draw in zip(columns, static, drawers, strict=True):
            try:
                if draw is None:
                    raise _Fallback
                value = draw(row)
            except _Fallback:
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
