"""What the list pages' django-tables2 tables share: keyset pages instead of numbered ones (see vetpms.keyset)."""

from __future__ import annotations

from django_tables2 import RequestConfig
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
