"""Lookups that treat an integer no column can hold as matching nothing, for foreign keys and ``__in`` too.

Django already answers ``pk=<a 30-digit number>`` with "no such row" instead of sending it to the database
(``IntegerFieldExact``), but not ``pk__in=[...]`` (a multiple-choice form field) or ``owner=<number>`` (a
foreign key, as the filters and choice fields of the pages use): there SQLite raises OverflowError and
PostgreSQL NumericValueOutOfRange, a 500 for a typo in a URL. These versions drop out-of-range numbers before
the query is built; ``register()`` (VetpmsConfig.ready) installs them for every integer and foreign-key field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignObject, IntegerField
from django.db.models.fields.related_lookups import RelatedExact, RelatedIn
from django.db.models.lookups import In


def _range(lookup: Any, connection: Any) -> tuple[int | None, int | None]:
    field = lookup.lhs.output_field
    target = getattr(field, "target_field", field)
    try:
        return connection.ops.integer_field_range(target.get_internal_type())
    except (KeyError, AttributeError):
        return None, None


def _fits(value: Any, low: int | None, high: int | None) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return True
    return (low is None or value >= low) and (high is None or value <= high)


class _InRange:
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():  # type: ignore[attr-defined]
            low, high = _range(self, connection)
            if isinstance(self.rhs, list | tuple | set):  # type: ignore[has-type]
                self.rhs = [v for v in self.rhs if _fits(v, low, high)]  # type: ignore[has-type]
            elif not _fits(self.rhs, low, high):  # type: ignore[has-type]
                raise EmptyResultSet
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


class IntegerInRange(_InRange, In):
    pass


class RelatedExactInRange(_InRange, RelatedExact):
    pass


class RelatedInInRange(_InRange, RelatedIn):
    pass


def register() -> None:
    IntegerField.register_lookup(IntegerInRange)
    ForeignObject.register_lookup(RelatedExactInRange)
    ForeignObject.register_lookup(RelatedInInRange)
