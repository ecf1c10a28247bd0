"""One rule for every number, date and time VetPMS is given: the digits 0-9. Python (and pydantic's Decimal) read
full-width and other scripts' digits as numbers, so a full-width "12" typed as a weight, a quantity, a
temperature, a count or a date would be stored as 12 while the screen echoes something else.

The class is walked, not sampled: every number/date/time field of every form and filter of the project's apps,
and every number/date/time field of every API input schema; then a few pages and endpoints end to end."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_filters import FilterSet

from vetpms.api_utils import QuerySchema, _number_or_date_only
from vetpms.params import DIGITS_MESSAGE, is_ascii_number

FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))


def fw(text: str) -> str:
    """``text`` with its digits full-width."""
    return text.translate(FULL_WIDTH)


def _project_apps() -> list[str]:
    base = str(settings.BASE_DIR)
    return [c.name for c in apps.get_app_configs() if str(c.path).startswith(base) and ".venv" not in str(c.path)]


def _import_all() -> None:
    for app in _project_apps():
        for module in ("forms", "filters", "views", "schemas", "api"):
            try:
                importlib.import_module(f"{app}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.{module}":
                    raise


def _subclasses(root: type) -> list[type]:
    found, todo = [], [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    prefixes = tuple(f"{app}." for app in _project_apps())
    return [c for c in found if c.__module__.startswith(prefixes)]


def _sample(field: forms.Field) -> str:
    """An ASCII value the field accepts."""
    if isinstance(field, forms.DateTimeField):
        return "2026-07-01 09:30"
    if isinstance(field, forms.DateField):
        return "2026-07-01"
    if isinstance(field, forms.TimeField):
        return "09:30"
    if isinstance(field, forms.DurationField):
        return "01:00:00"
    return "2"


NUMBER_FIELDS = (forms.IntegerField, forms.DateField, forms.TimeField, forms.DateTimeField, forms.DurationField)


def _form_fields() -> list[tuple[str, forms.Field]]:
    _import_all()
    fields = []
    for form in _subclasses(forms.BaseForm):
        for name, field in getattr(form, "base_fields", {}).items():
            fields.append((f"{form.__module__}.{form.__name__}.{name}", field))
    for filterset in _subclasses(FilterSet):
        for name, flt in filterset.base_filters.items():
            fields.append((f"{filterset.__module__}.{filterset.__name__}.{name}", flt.field))
    return [(label, f) for label, f in fields if isinstance(f, NUMBER_FIELDS)]


FORM_FIELDS = _form_fields()


def test_the_walk_found_the_fields_that_matter():
    labels = " ".join(label for label, _ in FORM_FIELDS)
    for expected in ("weight_kg", "temperature_c", "heart_rate", "quantity", "amount", "minutes", "kg", "date"):
        assert expected in labels, expected
    assert len(FORM_FIELDS) > 40


@pytest.mark.parametrize(("label", "field"), FORM_FIELDS, ids=[label for label, _ in FORM_FIELDS])
def test_every_number_date_and_time_field_of_every_form_takes_digits_0_to_9_only(label, field):
    ascii_value = _sample(field)
    assert field.to_python(ascii_value) is not None  # the same text in 0-9 is read
    for table in (FULL_WIDTH, ARABIC_INDIC):
        with pytest.raises(ValidationError) as refused:
            field.to_python(ascii_value.translate(table))
        assert refused.value.messages == [DIGITS_MESSAGE]


def _schema_fields() -> list[tuple[str, type, str]]:
    _import_all()
    found = []
    for schema in _subclasses(QuerySchema):
        for name, info in schema.model_fields.items():
            if _number_or_date_only(info.annotation):
                found.append((f"{schema.__module__}.{schema.__name__}.{name}", schema, name))
    return found


SCHEMA_FIELDS = _schema_fields()


def test_the_schema_walk_found_weights_vitals_money_and_dates():
    labels = " ".join(label for label, _, _ in SCHEMA_FIELDS)
    for expected in ("WeightIn.kg", "temperature_c", "heart_rate", "quantity", "amount", "measured_on"):
        assert expected in labels, expected


@pytest.mark.parametrize(("label", "schema", "name"), SCHEMA_FIELDS, ids=[label for label, _, _ in SCHEMA_FIELDS])
def test_every_number_date_and_time_field_of_every_api_schema_takes_digits_0_to_9_only(label, schema, name):
    for value in (fw("12"), "2".translate(ARABIC_INDIC), fw("2026-07-01"), fw("09:30")):
        with pytest.raises(Exception) as refused:
            schema.model_validate({name: value})
        errors = refused.value.errors()  # type: ignore[attr-defined]
        assert any(e["loc"][:1] == (name,) for e in errors), (value, errors)


def test_is_ascii_number():
    assert (
        is_ascii_number("12")
        and not is_ascii_number(fw("12"))
        and not is_ascii_number("")
        and not is_ascii_number("-1")
    )


# --- End to end: pages and API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_full_width_weight_is_a_form_error_on_the_page_and_a_422_in_the_api(as_vet, vet_user):
    from animals.models import Weight
    from tests.api.conftest import JsonClient
    from tests.factories import AnimalFactory, make_token

    animal = AnimalFactory()
    page = as_vet.post(
        reverse("animals:weight_add", args=[animal.pk]), {"kg": fw("12"), "measured_on": dt.date.today().isoformat()}
    )
    assert page.status_code in (200, 422) and DIGITS_MESSAGE in page.content.decode()
    _, secret = make_token(vet_user)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    for body in ({"kg": fw("12")}, {"kg": "12", "measured_on": fw("2026-01-01")}):
        answer = api.post(f"/api/v1/animals/{animal.pk}/weights", body)
        assert answer.status_code == 422, answer.content
    assert not Weight.objects.filter(animal=animal).exists()
    assert api.post(f"/api/v1/animals/{animal.pk}/weights", {"kg": "12", "confirm": True}).status_code == 201
    assert Weight.objects.get(animal=animal).kg == Decimal("12")


@pytest.mark.django_db
def test_full_width_vitals_are_refused_by_the_consultation_api(vet_user):
    from clinical.services import consultation_open
    from tests.api.conftest import JsonClient
    from tests.factories import AnimalFactory, make_token

    consultation = consultation_open(animal=AnimalFactory(), by=vet_user)
    _, secret = make_token(vet_user)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    url = f"/api/v1/consultations/{consultation.pk}"
    for body in ({"temperature_c": fw("38.5")}, {"weight_kg": fw("12")}, {"heart_rate": fw("80")}):
        answer = api.http.patch(url, json.dumps(body), content_type="application/json", headers=api.headers)
        assert answer.status_code == 422, (body, answer.content)
    consultation.refresh_from_db()
    assert consultation.temperature_c is None and consultation.heart_rate is None
