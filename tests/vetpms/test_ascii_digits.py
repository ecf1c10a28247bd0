"""One rule for every number, date and time VetPMS is given: the digits 0-9. Python (and pydantic's Decimal) read
full-width and other scripts' digits as numbers, so a full-width "12" typed as a weight, a quantity, a
temperature, a count or a date would be stored as 12 while the screen echoes something else.

The class is walked, not sampled: every number/date/time field of every form and filter of the project's apps,
and every number/date/time field of every API input schema; then a few pages and endpoints end to end. Ids are
numbers too: every model choice field of every form, every id in a URL, every whole-number query field of the API,
and the pages and endpoints that read an id from a query string or a form."""

from __future__ import annotations

import copy
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

from vetpms.api_utils import WHOLE_NUMBER_MESSAGE, QuerySchema, _number_or_date_only, _whole_number_only
from vetpms.params import DIGITS_MESSAGE, integer_key, is_ascii_number

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


def _all_fields() -> list[tuple[str, forms.Field]]:
    """(label, field) for every field of every form and every filter of the project's apps."""
    _import_all()
    fields = []
    for form in _subclasses(forms.BaseForm):
        for name, field in getattr(form, "base_fields", {}).items():
            fields.append((f"{form.__module__}.{form.__name__}.{name}", field))
    for filterset in _subclasses(FilterSet):
        for name, flt in filterset.base_filters.items():
            fields.append((f"{filterset.__module__}.{filterset.__name__}.{name}", flt.field))
    return fields


def _form_fields() -> list[tuple[str, forms.Field]]:
    return [(label, f) for label, f in _all_fields() if isinstance(f, NUMBER_FIELDS)]


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


WHOLE_NUMBER_FIELDS = [
    (label, schema, name)
    for label, schema, name in SCHEMA_FIELDS
    if _whole_number_only(schema.model_fields[name].annotation)
]


@pytest.mark.parametrize(
    ("label", "schema", "name"), WHOLE_NUMBER_FIELDS, ids=[label for label, _, _ in WHOLE_NUMBER_FIELDS]
)
def test_every_id_and_count_of_every_api_schema_is_written_0_to_9_alone(label, schema, name):
    """pydantic reads " 12", "+12", "1_2" and "12.0" as 12: an id or a count in a query string is plain digits."""
    for value in ("+12", " 12", "1_2", "12.0"):
        with pytest.raises(Exception) as refused:
            schema.model_validate({name: value})
        errors = [e for e in refused.value.errors() if e["loc"][:1] == (name,)]  # type: ignore[attr-defined]
        assert errors and WHOLE_NUMBER_MESSAGE in errors[0]["msg"], (value, errors)


def test_the_whole_number_walk_found_the_ids_of_the_filters():
    labels = " ".join(label for label, _, _ in WHOLE_NUMBER_FIELDS)
    for expected in ("AppointmentFilters.vet", "AppointmentFilters.animal", "InvoiceFilters.client"):
        assert expected in labels, expected


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


# --- Ids: a row is named with the digits 0-9 alone ---------------------------------------------------------------
# Django's model choice fields, the ORM and int() all read a full-width "12" (and "+12") as id 12. A tampered form
# or a pasted value would then choose row 12 while the page echoes something else: every id a person or a program
# gives VetPMS is refused unless it is written 0-9 alone (vetpms.params.ascii_ids, parse_id, is_ascii_number; the
# API's Id and every whole-number query field, vetpms.api_utils).

NOT_PLAIN_IDS = [
    lambda pk: fw(str(pk)),
    lambda pk: str(pk).translate(ARABIC_INDIC),
    lambda pk: f"+{pk}",
]


def plain(pk: int) -> str:
    return str(pk)


def _choice_fields() -> list[tuple[str, forms.ModelChoiceField]]:
    # A field whose queryset is only set when the form is made (the line form's animals) is covered end to end.
    return [
        (label, f)
        for label, f in _all_fields()
        if isinstance(f, forms.ModelChoiceField) and f.queryset is not None and integer_key(f)
    ]


CHOICE_FIELDS = _choice_fields()


def test_the_walk_found_the_choices_of_vets_animals_policies_and_lines():
    labels = " ".join(label for label, _ in CHOICE_FIELDS)
    for expected in (".vet", ".policy", ".lines", ".species", ".to_owner", ".user"):
        assert expected in labels, expected
    assert len(CHOICE_FIELDS) >= 12


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "field"), CHOICE_FIELDS, ids=[label for label, _ in CHOICE_FIELDS])
def test_every_choice_of_a_row_refuses_an_id_not_written_0_to_9_before_looking_it_up(
    label, field, django_assert_num_queries
):
    field = copy.deepcopy(field)
    if field.queryset.query.is_empty():  # filled in when the form is made: without it nothing would be looked up
        field.queryset = field.queryset.model._default_manager.all()
    multiple = isinstance(field, forms.ModelMultipleChoiceField)
    for write in NOT_PLAIN_IDS:
        raw = write(12)
        with django_assert_num_queries(0), pytest.raises(ValidationError) as refused:
            field.clean([raw] if multiple else raw)
        assert refused.value.code in {"invalid_choice", "invalid_pk_value"}, (raw, refused.value)


@pytest.fixture
def id_world(manager, vet_user):
    from appointments.models import AppointmentType, WorkingHours
    from appointments.services import appointment_book
    from invoicing.models import Product, TaxCategory
    from invoicing.services import invoice_draft_for
    from tests.factories import AnimalFactory, make_token
    from vetpms.timeutils import local_datetime

    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3366cc")
    pet = AnimalFactory(name="Rex")
    day = dt.date.today() + dt.timedelta(days=2)
    appointment_book(animal=pet, vet=vet, type=kind, start=local_datetime(day, dt.time(10)), minutes=15, by=manager)
    product = Product.objects.create(
        code="CONS",
        name="Consultation",
        category="consultation",
        unit_price=Decimal("45.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    draft = invoice_draft_for(client=pet.owner, by=manager)
    _, secret = make_token(manager)
    auth = {"Authorization": f"Bearer {secret}"}
    return {"vet": vet, "pet": pet, "day": day, "product": product, "draft": draft, "auth": auth}


def _slots(client, w, write):
    url = reverse("appointments:slots")
    response = client.get(url, {"minutes": "15", "vet": write(w["vet"].pk), "date": w["day"].isoformat()})
    return response.status_code == 200 and "slot-btn" in response.content.decode()


def _line(client, w, write):
    from invoicing.models import InvoiceLine

    data = {
        "product": w["product"].pk,
        "quantity": "1",
        "unit_price": "45.00",
        "animal": write(w["pet"].pk),
        "discount_percent": "0",
        "discount_amount": "0.00",
        "service_date": dt.date.today().isoformat(),
    }
    client.post(reverse("invoicing:line_add", args=[w["draft"].pk]), data)
    return InvoiceLine.objects.filter(invoice=w["draft"], animal=w["pet"]).exists()


def _report(client, w, write):
    response = client.get(reverse("reports:report", args=["revenue"]), {"vet": write(w["vet"].pk)})
    return response.status_code == 200 and "Unknown vet" not in response.content.decode()


def _reminder_for(client, w, write):
    return client.get(reverse("reminders:new"), {"animal": write(w["pet"].pk)}).status_code == 200


def _api_filter(client, w, write):
    response = client.get("/api/v1/appointments", {"vet": write(w["vet"].pk)}, headers=w["auth"])
    return response.status_code == 200 and response.json()["count"] == 1


def _api_path(client, w, write):
    from urllib.parse import quote

    path = f"/api/v1/animals/{quote(write(w['pet'].pk))}"
    return client.get(path, headers=w["auth"]).status_code == 200


def _fhir_reference(client, w, write):
    response = client.get("/fhir/R4/Appointment", {"patient": "Patient/" + write(w["pet"].pk)}, headers=w["auth"])
    return response.status_code == 200 and len(response.json().get("entry", [])) == 1


def _fhir_count(client, w, write):
    response = client.get("/fhir/R4/Patient", {"_count": write(5)}, headers=w["auth"])
    return response.status_code == 200


ID_ENDPOINTS = [_slots, _line, _report, _reminder_for, _api_filter, _api_path, _fhir_reference, _fhir_count]


@pytest.mark.django_db
@pytest.mark.parametrize("use", ID_ENDPOINTS, ids=[f.__name__.strip("_") for f in ID_ENDPOINTS])
def test_pages_and_endpoints_act_on_an_id_only_when_it_is_written_0_to_9(use, id_world, as_manager):
    for write in NOT_PLAIN_IDS:
        assert not use(as_manager, id_world, write), write(12)
    assert use(as_manager, id_world, plain)  # the same id in 0-9 is taken: the refusals above are the digits'


def test_every_id_in_a_url_is_matched_by_digits_0_to_9_only():
    """Django's int converter matches [0-9]+ (a regex's \\d would match any script's digits): every route parameter
    that names a row by number uses it (or a UUID), in the pages, the API and the FHIR server."""
    from django.urls import URLResolver, get_resolver
    from django.urls.converters import IntConverter, UUIDConverter
    from django.urls.resolvers import RegexPattern

    loose, numeric_routes = [], 0

    def walk(patterns, prefix=""):
        nonlocal numeric_routes
        for entry in patterns:
            pattern = entry.pattern
            route = prefix + str(pattern)
            if isinstance(pattern, RegexPattern):
                if "\\d" in pattern._regex:
                    loose.append(f"{route}: \\d matches any script's digits")
            else:
                for name, converter in pattern.converters.items():
                    if name in {"pk", "id"} or name.endswith(("_pk", "_id")):
                        numeric_routes += 1
                        if not isinstance(converter, IntConverter | UUIDConverter):
                            loose.append(f"{route}: {name} is matched by {type(converter).__name__}")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)

    # Django's own admin (staff accounts only) matches its object ids with <path:>; it is left as Django ships it.
    walk([p for p in get_resolver().url_patterns if str(p.pattern) != "admin/"])
    assert not loose, loose
    assert numeric_routes > 150  # the walk reached the pages and the API


def test_no_id_is_read_with_str_isdigit():
    """``str.isdigit`` is true for full-width and other scripts' digits: reading a number goes through
    vetpms.params (is_ascii_number, parse_id). The uses left classify search words (phone number or name) and
    never turn the text into a number."""
    allowed = {
        "vetpms/params.py",
        "vetpms/phones.py",
        "vetpms/text.py",
        "vetpms/templatetags/vetpms_tags.py",
        "clients/filters.py",
        "clients/selectors.py",
        "animals/selectors.py",
    }
    base = settings.BASE_DIR
    found = []
    for app in _project_apps():
        for path in (base / app.replace(".", "/")).rglob("*.py"):
            relative = str(path.relative_to(base))
            if relative not in allowed and ".isdigit()" in path.read_text():
                found.append(relative)
    assert not found, found
