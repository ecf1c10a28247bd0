"""Keyset (cursor) pagination: a page is "the rows after this one" in the list's order, never "skip N rows".

An OFFSET makes the database produce and throw away every row before the page, so page 2,000 of the invoice list
costs 2,000 times page 1, and an exact ``count(*)`` reads every row that matches. Here a page asks for the rows
whose sort key comes after the last row shown (``WHERE (key) > (last key) ORDER BY key LIMIT n + 1``), which an
index on the sort key answers by starting where the previous page ended, and the total is counted only up to
``COUNT_CAP`` ("more than 10,000"), so every page costs what the first one costs.

The cursor is the sort key of the row a page starts after (or ends before, going back), in the order's own terms,
so rows added or removed between two requests neither repeat nor vanish from the pages that follow. The order must
end in a unique column (the primary key), which every list's order already does. Cursors are opaque to the
reader (base64 of a small JSON list) and carry no secret: a forged one only selects other rows of the same list,
which the caller's filters and permissions have already bounded.

    page = keyset_page(selectors.invoice_list(), cursor=request.GET.get("cursor"), per_page=25)
    page.rows, page.next_cursor, page.previous_cursor, page.count, page.count_capped
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Lookup, Model, OrderBy, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

COUNT_CAP = 10_000
NEXT, PREVIOUS = "n", "p"


class InvalidCursor(ValueError):
    """A cursor this list did not make (edited, truncated, or from a list sorted another way)."""


@dataclass(frozen=True)
class Key:
    """One term of a list's order: a field path, its direction, where NULLs go and whether it can be NULL."""

    path: str
    descending: bool
    nulls_first: bool
    nullable: bool

    def reversed(self) -> Key:
        return Key(self.path, not self.descending, not self.nulls_first, self.nullable)

    def order_by(self) -> OrderBy:
        if not self.nullable:
            return OrderBy(F(self.path), descending=self.descending)
        if self.nulls_first:
            return OrderBy(F(self.path), descending=self.descending, nulls_first=True)
        return OrderBy(F(self.path), descending=self.descending, nulls_last=True)

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})

    def after(self, value: Any) -> Q | None:
        """Rows that come strictly after ``value`` in this term's order; None when none can."""
        if value is None:  # NULL sorts first (everything non-null follows) or last (nothing follows)
            return Q(**{f"{self.path}__isnull": False}) if self.nulls_first else None
        condition = Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        if self.nullable and not self.nulls_first:
            condition |= Q(**{f"{self.path}__isnull": True})
        return condition

    def bound(self, value: Any) -> Q | None:
        """A looser condition an index can start from (``key >= value``); None where no simple one exists."""
        if value is None or (self.nullable and not self.nulls_first):
            return None
        return Q(**{f"{self.path}__{'lte' if self.descending else 'gte'}": value})


@dataclass
class KeysetPage:
    rows: list
    per_page: int
    next_cursor: str | None
    previous_cursor: str | None
    count: int
    count_capped: bool
    cap: int = COUNT_CAP
    object_list: Any = None  # what a table shows (vetpms.tables puts its bound rows here)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def count_label(self) -> str:
        return f"more than {self.cap:,}" if self.count_capped else f"{self.count:,}"


def _field(model: type[Model], path: str) -> Any:
    """The model field behind ``path`` (``client__last_name``), or None for a name that is not a field."""
    field = None
    try:
        for part in path.split("__"):
            field = model._meta.get_field(part)
            if field.is_relation and field.related_model is not None:
                model = field.related_model
    except FieldDoesNotExist:
        return None
    return field


def _clean(model: type[Model], keys: list[Key], values: list[Any]) -> list[Any]:
    """The cursor's values as their columns' Python types; InvalidCursor for one that is not (an edited cursor)."""
    cleaned = []
    for key, value in zip(keys, values, strict=True):
        field = _field(model, key.path)
        if value is not None and field is not None and not field.is_relation:
            try:
                value = field.to_python(value)
            except ValidationError as exc:
                raise InvalidCursor("not a cursor of this list") from exc
        elif value is not None and field is not None and not isinstance(value, int):
            raise InvalidCursor("not a cursor of this list")
        cleaned.append(value)
    return cleaned


def _is_nullable(model: type[Model], path: str) -> bool:
    """Whether the column behind ``path`` (``client__last_name``) can hold NULL; unknown names count as nullable."""
    nullable = False
    try:
        for part in path.split("__"):
            field = model._meta.get_field(part)
            nullable = nullable or bool(field.null)
            if field.is_relation and field.related_model is not None and part != path.split("__")[-1]:
                model = field.related_model
    except FieldDoesNotExist:
        return True
    return nullable


def keys_of(qs: QuerySet) -> list[Key]:
    """The order of ``qs`` as keys, ending in the primary key (added when the order does not end in it).
    Raises ValueError for an order keyset paging cannot follow (an expression rather than a column)."""
    keys = []
    for term in qs.query.order_by or qs.model._meta.ordering:
        if isinstance(term, str):
            descending = term.startswith("-")
            path = term.lstrip("-")
            if path == "pk":
                path = qs.model._meta.pk.name
            nullable = _is_nullable(qs.model, path)
            keys.append(Key(path, descending, nulls_first=descending, nullable=nullable))
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            path = term.expression.name
            nullable = _is_nullable(qs.model, path)
            # Without an explicit place, NULLs go where PostgreSQL puts them; the query then says so, for SQLite.
            nulls_first = term.nulls_first if (term.nulls_first or term.nulls_last) else term.descending
            keys.append(Key(path, term.descending, nulls_first=bool(nulls_first), nullable=nullable))
        else:
            raise ValueError(f"keyset pages cannot follow the order term {term!r}")
    if not keys or keys[-1].path not in ("id", qs.model._meta.pk.name):
        keys.append(Key(qs.model._meta.pk.name, False, nulls_first=False, nullable=False))  # the tie-break
    return keys


def _after(keys: list[Key], values: list[Any]) -> Q | Lookup:
    """Rows strictly after ``values`` in the order of ``keys``.

    When every key runs the same way and none can be NULL, a row comparison, ``(k0, k1, id) > (v0, v1, v2)``,
    which PostgreSQL reads as one index condition (started at the cursor, whatever the other filters); otherwise
    (k0 > v0) or (k0 = v0 and k1 > v1) or ..., with ``k0 >= v0`` beside it for the index to start from.
    """
    if len({key.descending for key in keys}) == 1 and not any(key.nullable for key in keys):
        columns = Tuple(*(F(key.path) for key in keys))
        return (TupleLessThan if keys[0].descending else TupleGreaterThan)(columns, list(values))
    condition = Q(pk__in=[])
    equal_so_far = Q()
    for key, value in zip(keys, values, strict=True):
        step = key.after(value)
        if step is not None:
            condition |= equal_so_far & step
        equal_so_far &= key.equal(value)
    bound = keys[0].bound(values[0])
    return condition & bound if bound is not None else condition


# --- the cursor ---------------------------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"m": str(value)}
    if value is None or isinstance(value, bool | int | str):
        return value
    raise ValueError(f"cannot put a {type(value).__name__} in a cursor")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if not isinstance(text, str):
            raise InvalidCursor("bad value")
        try:
            if tag == "t":
                return dt.datetime.fromisoformat(text)
            if tag == "d":
                return dt.date.fromisoformat(text)
            if tag == "m":
                return Decimal(text)
        except (ValueError, InvalidOperation) as exc:
            raise InvalidCursor("bad value") from exc
    if value is None or isinstance(value, bool | int | str):
        return value
    raise InvalidCursor("bad value")


def signature(keys: list[Key]) -> str:
    """A short tag of the order a cursor was made in: a cursor kept while the reader re-sorts starts over."""
    spelled = ",".join(f"{'-' if k.descending else ''}{k.path}" for k in keys)
    return f"{zlib.crc32(spelled.encode()):08x}"


def encode_cursor(direction: str, keys: list[Key], values: list[Any]) -> str:
    raw = json.dumps([direction, signature(keys), [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[Key]) -> tuple[str, list[Any]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, tag, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor") from exc
    if direction not in (NEXT, PREVIOUS) or tag != signature(keys):
        raise InvalidCursor("not a cursor of this list")
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursor("not a cursor of this list")
    decoded = [_decode_value(v) for v in values]
    if decoded[-1] is None or isinstance(decoded[-1], dict):
        raise InvalidCursor("not a cursor of this list")
    return direction, decoded


# --- the page -----------------------------------------------------------------------------------------------------


def _key_values(row: Any, names: list[str]) -> list[Any]:
    return [getattr(row, name) for name in names]


def capped_count(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(rows, whether there are more than ``cap``): counts at most cap + 1 rows, never the whole table."""
    counted = qs.order_by().values("pk")[: cap + 1].count()
    return min(counted, cap), counted > cap


def keyset_page(
    qs: QuerySet, *, cursor: str | None, per_page: int, count: bool = True, cap: int = COUNT_CAP, skip: int = 0
) -> KeysetPage:
    """The page of ``qs`` (ordered; the primary key breaks ties) that ``cursor`` points at; the first without one.

    Two queries: the rows (``per_page + 1``, the extra one says whether a next page exists) and the capped count
    (left out with ``count=False``). ``skip`` (without a cursor) starts the first page that many rows in, for
    callers that still send an offset; keep it small, it costs what an OFFSET costs. Raises InvalidCursor for a
    cursor this list did not make.
    """
    keys = keys_of(qs)
    names = [f"keyset_{i}" for i in range(len(keys))]
    annotated = qs.annotate(**{name: F(key.path) for name, key in zip(names, keys, strict=True)})
    direction, values = decode_cursor(cursor, keys) if cursor else (NEXT, None)
    if values is not None:
        values = _clean(qs.model, keys, values)
    walk = keys if direction == NEXT else [key.reversed() for key in keys]
    ordered = annotated.order_by(*(key.order_by() for key in walk))
    if values is not None:
        try:
            ordered = ordered.filter(_after(walk, values))
        except (ValueError, TypeError, ValidationError) as exc:  # a value of the wrong type for its column
            raise InvalidCursor("not a cursor of this list") from exc
    if direction == NEXT:
        start = skip if values is None else 0
        rows = list(ordered[start : start + per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page]
        has_next, has_previous = more, values is not None or start > 0
    else:
        rows = list(ordered[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        has_next, has_previous = True, more
    next_cursor = encode_cursor(NEXT, keys, _key_values(rows[-1], names)) if has_next and rows else None
    previous_cursor = encode_cursor(PREVIOUS, keys, _key_values(rows[0], names)) if has_previous and rows else None
    if has_previous and not rows and values is not None:  # past the end (rows deleted meanwhile): a way back
        previous_cursor = encode_cursor(PREVIOUS, keys, values)
    total, capped = capped_count(qs, cap) if count else (len(rows), False)
    return KeysetPage(rows, per_page, next_cursor, previous_cursor, total, capped, cap)
