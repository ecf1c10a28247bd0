"""What the list pages' django-filter filter sets share.

``ModelChoiceFilter`` reads its choices (a vet, a species, a reminder type: a few dozen rows) with one plain query,
kept for the request. Django's own iterator reads them through ``QuerySet.iterator()``, which on PostgreSQL opens a
server-side cursor (DECLARE, FETCH, CLOSE) for every select drawn or checked: three round trips instead of one.
"""

from __future__ import annotations

import django_filters
from django_filters import fields


class _PlainChoiceIterator(fields.ModelChoiceIterator):
    """django-filter's choices (the empty label, the null label, then the rows) from a plain read of the queryset:
    the field's own queryset, so drawing the select again in the same request reads nothing more."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _PlainModelChoiceField(fields.ModelChoiceField):
    iterator = _PlainChoiceIterator


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _PlainModelChoiceField
