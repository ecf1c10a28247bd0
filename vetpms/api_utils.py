"""Small pieces the API routers share: the paginator, input-schema conventions, error helpers."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_args

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from pydantic import ConfigDict, ValidationInfo, create_model, field_validator

from vetpms.keyset import InvalidCursor, keyset_page
from vetpms.params import DIGITS_MESSAGE, TEXT_MESSAGE, has_control_characters

MAX_PAGE_SIZE = 100
MAX_ID = 2**63 - 1  # the largest bigint: a larger number would overflow the database driver, not just miss


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no one types it or BEL or ESC: refused as invalid input (tab and
    # line breaks are fine), the same rule as the pages' forms (vetpms.params.validate_plain_text).
    if has_control_characters(value):
        raise ValueError(TEXT_MESSAGE)
    return value


def _accepts_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    return any(_accepts_bool(arg) for arg in get_args(annotation))


_NUMBERS_AND_DATES = (int, float, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta)


def _accepts(annotation: Any, types: tuple[type, ...]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, types) and annotation is not bool:
        return True
    return any(_accepts(arg, types) for arg in get_args(annotation))


def _number_or_date_only(annotation: Any) -> bool:
    """Whether a field takes numbers, dates or times but no free text (a ``str | int`` field takes any text)."""
    return _accepts(annotation, _NUMBERS_AND_DATES) and not _accepts(annotation, (str,))


def _whole_number_only(annotation: Any) -> bool:
    """Whether a field takes whole numbers (ids, counts) and nothing else."""
    others = (str, float, Decimal, dt.date, dt.time, dt.timedelta)
    return _accepts(annotation, (int,)) and not _accepts(annotation, others)


# pydantic reads " 12", "+12", "1_2" and "12.0" as the whole number 12; an id or a count is written 0-9 alone.
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
WHOLE_NUMBER_MESSAGE = "Give a whole number written with the digits 0-9 alone."


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def url_id(pk: int) -> int:
    """An id from the URL (Django's int converter takes any number of digits): out of range names nothing."""
    if not 1 <= pk <= MAX_ID:
        raise Http404
    return pk


S = TypeVar("S", bound=type[Schema])


MAX_OFFSET = 10_000


def body_record(model: type[Any], pk: int | None, field: str) -> Any:
    """The record an id in a request body names (None for no id), or a 422 on ``field``."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return obj


def _query_error(name: str, message: str) -> NinjaValidationError:
    return NinjaValidationError([{"loc": ["query", name], "msg": message, "type": "value_error"}])


class Page(PaginationBase):
    """``?limit=&cursor=`` -> ``{"items": [...], "count": N, "count_capped": bool, "next": cursor, "previous":
    cursor}``: keyset pages (vetpms.keyset), so the thousandth page costs what the first does. Follow ``next``
    (null on the last page) for the following page. ``count`` stops at 10,000 (``count_capped`` then says there
    are more). ``offset`` is still read for older clients, up to 10,000 rows in; a cursor goes any depth.

    A limit over 100 is refused (422), not clipped, so a client never silently receives less than it asked for;
    so is a cursor the list did not hand out (for instance one kept after changing the filters' order)."""

    class Input(Schema):
        limit: int = Field(25, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1-{MAX_PAGE_SIZE}.")
        cursor: str | None = Field(
            None, max_length=2000, description="The `next` (or `previous`) of the page before: where to go on."
        )
        offset: int = Field(
            0, ge=0, le=MAX_OFFSET, description=f"Rows to skip (at most {MAX_OFFSET:,}); prefer the cursor."
        )

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False
        next: str | None = None
        previous: str | None = None

    def paginate_queryset(self, queryset, pagination: Input, request=None, **params: Any) -> dict[str, Any]:
        if pagination.cursor and pagination.offset:
            raise _query_error("offset", "Give a cursor or an offset, not both.")
        try:
            page = keyset_page(queryset, cursor=pagination.cursor, per_page=pagination.limit, skip=pagination.offset)
        except InvalidCursor as exc:
            raise _query_error("cursor", "Not a cursor of this list: start again without one.") from exc
        return {
            "items": page.rows,
            "count": page.count,
            "count_capped": page.count_capped,
            "next": page.next_cursor,
            "previous": page.previous_cursor,
        }


class QuerySchema(Schema):
    """Query parameters: text without NUL characters (see ``_no_nul``); numbers, dates and times in the digits 0-9
    (pydantic's Decimal, like Python's, reads full-width digits as numbers: see ``vetpms.params.DIGITS_MESSAGE``)."""

    @field_validator("*", mode="before")
    @classmethod
    def _ascii_digits(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name) if info.field_name is not None else None
        if field is not None and _number_or_date_only(field.annotation):
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and not v.isascii() for v in values):
                raise ValueError(DIGITS_MESSAGE)
            if _whole_number_only(field.annotation) and any(
                isinstance(v, str) and not _WHOLE_NUMBER.fullmatch(v) for v in values
            ):
                raise ValueError(WHOLE_NUMBER_MESSAGE)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _text_without_nul(cls, value: Any) -> Any:
        if isinstance(value, str):
            _no_nul(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _no_nul(item)
        return value


class InputSchema(QuerySchema):
    """Request bodies: surrounding whitespace is stripped and unknown fields are refused (a typo such as
    ``firstname`` is a 422, not a silently ignored value), text holds no control characters, and true/false is
    taken only where a yes/no is asked for: pydantic would read ``{"owner": true}`` as owner 1."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_only_for_yes_no(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and not _accepts_bool(field.annotation):
                raise ValueError("Give a value of the documented type, not true or false.")
        return value


def patch_schema(schema: S, name: str) -> S:
    """The same fields as ``schema``, all optional, for PATCH: only the fields sent are changed.

    An explicit ``null`` is refused for fields that cannot be empty (pydantic does not validate the ``None``
    default, only values that were sent), so ``{"last_name": null}`` is a 422, not a database error.
    """
    fields: dict[str, Any] = {}
    for field_name, info in schema.model_fields.items():
        optional = copy.copy(info)
        optional.default = None
        optional.default_factory = None
        fields[field_name] = (info.annotation, optional)
    return create_model(name, __base__=schema, **fields)  # type: ignore[call-overload,no-any-return]


def renamed_errors(call: Callable[[], Any], names: dict[str, str]) -> Any:
    """Run ``call``; a ValidationError about a model field is re-raised under the API's name for it."""
    try:
        return call()
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError({names.get(k, k): v for k, v in exc.error_dict.items()}) from exc
