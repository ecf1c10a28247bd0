"""The clinical record's FHIR types: Encounter, Observation, Condition, Immunization, ImmunizationRecommendation,
MedicationRequest, MedicationDispense and DocumentReference (mappings in exchange.fhir.clinical, sources in
exchange.fhir.clinical_sources).

A type reads one or more sources (Observation: the weight history and three vitals of consultations; Condition:
problems and consultation diagnoses). A search pages through its sources in turn, each in primary-key order by
keyset: the cursor is the source's index and the last primary key read, so a deep page costs what the first one
costs and a page is at most one query per source (plus the Encounter's diagnoses prefetch). Only ``next`` links
are given. Every parameter applies to every source; a status a source does not have matches none of its rows.

Role checks are the REST API's: each source's view permissions (``read_permissions`` is their union), and the
text of a consultation (the Encounter's reason) only for roles that may read clinical notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from clinical.selectors import can_read_notes
from exchange.fhir import clinical as m
from exchange.fhir.clinical_sources import SOURCES, Context, Source, source_for_id
from exchange.fhir.errors import bad_request, not_found
from exchange.fhir.registry import Query, ResourceType, SearchPage, register
from exchange.fhir.search import NOTHING, SearchParam, date_param, parse_token, reference_id, reference_param
from reminders.models import Reminder


@dataclass(frozen=True)
class Sourced:
    """A row and the source it came from (the FHIR id needs both)."""

    source: Source
    row: Any

    @property
    def pk(self) -> str:
        return self.source.resource_id(self.row.pk)


def context(request: HttpRequest) -> Context:
    cached = getattr(request, "_fhir_clinical_context", None)
    if cached is None:
        cached = Context(with_notes=can_read_notes(request.user), base_url=request.build_absolute_uri("/").rstrip("/"))
        request._fhir_clinical_context = cached  # type: ignore[attr-defined]
    return cached


# --- Search parameters, built per source --------------------------------------------------------------------------

StatusMap = dict[str, Callable[[], Q]]
ParamBuilder = Callable[[Source], SearchParam]
# Every row: the search helpers OR a parameter's values together, and an empty Q() would vanish from an OR.
ANY = Q(pk__isnull=False)
_CURSOR = re.compile(r"^(\d{1,2})\.(\d{1,18})$")


def _ids(type_name: str) -> ParamBuilder:
    def build(source: Source) -> SearchParam:
        def to_q(value: str, modifier: str) -> Q:
            found = source_for_id(type_name, value)
            return Q(pk=found[1]) if found is not None and found[0] is source else NOTHING

        return SearchParam("_id", "token", to_q, "The logical id of the resource.")

    return build


def _status(name: str, per_source: dict[str, StatusMap], documentation: str) -> ParamBuilder:
    """A token parameter over codes each source maps to its rows; a code no source has matches nothing (a token
    search for a code that is not in the value set finds no resources)."""

    def build(source: Source) -> SearchParam:
        mapping = per_source.get(source.prefix, {})

        def to_q(value: str, modifier: str) -> Q:
            _, code = parse_token(value)
            return mapping[code]() if code in mapping else NOTHING

        return SearchParam(name, "token", to_q, documentation)

    return build


def _patient(name: str = "patient") -> ParamBuilder:
    return lambda source: reference_param(name, source.patient, "Patient", documentation="The animal (Patient/id).")


def _date(name: str, documentation: str) -> ParamBuilder:
    def build(source: Source) -> SearchParam:
        assert source.date is not None
        return date_param(name, source.date, is_date=source.date_is_date, documentation=documentation)

    return build


def _last_updated(source: Source) -> SearchParam:
    return date_param("_lastUpdated", source.updated, documentation="When the resource last changed.")


def _observation_code(source: Source) -> SearchParam:
    loinc = m.VITALS[source.prefix][0]

    def to_q(value: str, modifier: str) -> Q:
        system, code = parse_token(value)
        return ANY if code == loinc and system in (None, m.LOINC) else NOTHING

    codes = ", ".join(f"{code} ({display})" for code, display, _ in m.VITALS.values())
    return SearchParam("code", "token", to_q, f"LOINC code: {codes}.")


def _category(code: str) -> ParamBuilder:
    def build(source: Source) -> SearchParam:
        def to_q(value: str, modifier: str) -> Q:
            return ANY if parse_token(value)[1] == code else NOTHING

        return SearchParam("category", "token", to_q, f"Always {code}.")

    return build


def _condition_category(source: Source) -> SearchParam:
    mine = "problem-list-item" if source.prefix == "prob" else "encounter-diagnosis"

    def to_q(value: str, modifier: str) -> Q:
        return ANY if parse_token(value)[1] == mine else NOTHING

    return SearchParam("category", "token", to_q, "problem-list-item (problems) or encounter-diagnosis.")


def _recommendation_status() -> StatusMap:
    return {
        "due": lambda: Q(status=Reminder.Status.PENDING, due_on__gte=timezone.localdate()),
        "overdue": lambda: Q(status=Reminder.Status.PENDING, due_on__lt=timezone.localdate()),
        "complete": lambda: Q(status=Reminder.Status.COMPLETED),
    }


_PRESCRIPTION_STATUS: StatusMap = {
    "active": lambda: Q(repeats__gt=F("repeats_used")),
    "completed": lambda: Q(repeats__lte=F("repeats_used")),
}


def _fixed(statuses: dict[str, Q]) -> StatusMap:
    return {code: (lambda q=q: q) for code, q in statuses.items()}


# --- The resource types -------------------------------------------------------------------------------------------


class ClinicalResource(ResourceType):
    """A type served from ``SOURCES[type_name]``; subclasses list their search parameter builders."""

    model = None
    last_updated = None  # each source has its own; meta.lastUpdated comes from the mapping
    builders: ClassVar[list[ParamBuilder]] = []

    def __init__(self) -> None:
        self.sources = SOURCES[self.type_name]
        # Each parameter once per source: the same name filters each source on its own fields.
        self.per_source: list[dict[str, SearchParam]] = [
            {p.name: p for p in (builder(source) for builder in [_ids(self.type_name), _last_updated, *self.builders])}
            for source in self.sources
        ]
        self.read_permissions = tuple(dict.fromkeys(p for s in self.sources for p in s.permissions))  # type: ignore[misc]

    def all_search_params(self) -> dict[str, SearchParam]:
        return dict(self.per_source[0])

    def id_of(self, obj: Any) -> str:
        return obj.pk

    def to_fhir(self, obj: Any, request: HttpRequest) -> dict:
        return obj.source.render(obj.row, context(request))

    def last_updated_of(self, obj: Any):
        return None  # the mappings write meta.lastUpdated themselves

    def get(self, request: HttpRequest, resource_id: str) -> Any:
        found = source_for_id(self.type_name, resource_id)
        row = found[0].rows().filter(pk=found[1]).first() if found is not None else None
        if row is None or found is None:
            raise not_found(f"{self.type_name}/{resource_id} is not known.")
        return Sourced(found[0], row)

    def search(self, request: HttpRequest, query: Query) -> SearchPage:
        start, after = 0, 0
        if query.cursor:
            match = _CURSOR.match(query.cursor)
            if match is None or int(match.group(1)) >= len(self.sources):
                raise bad_request("_cursor: not a cursor of this search (start the search again).")
            start, after = int(match.group(1)), int(match.group(2))
        rows: list[Sourced] = []
        for index in range(start, len(self.sources)):
            source = self.sources[index]
            qs = source.rows()
            for param, modifier, values in query.filters:
                qs = qs.filter(self.per_source[index][param.name].filter(values, modifier))
            if index == start and after:
                qs = qs.filter(pk__gt=after)
            wanted = query.count + 1 - len(rows)
            rows.extend(Sourced(source, row) for row in qs.order_by("pk")[:wanted])
            if len(rows) > query.count:
                break
        next_cursor = None
        if len(rows) > query.count:
            rows = rows[: query.count]
            last = rows[-1]
            next_cursor = f"{self.sources.index(last.source)}.{last.row.pk}"
        return SearchPage(rows, next_cursor, None)


@register
class EncounterResource(ClinicalResource):
    type_name = "Encounter"
    documentation = "Consultations. The reason (presenting complaint) only for roles that read clinical notes."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _date("date", "When the consultation was opened."),
        _status("status", {"": _fixed(SOURCES["Encounter"][0].statuses)}, "in-progress (draft) or finished (signed)."),
    ]


@register
class ObservationResource(ClinicalResource):
    type_name = "Observation"
    documentation = "Weights (the animal's weight history) and the vitals of consultations, LOINC coded, UCUM units."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _date("date", "When measured (weights: the day; vitals: the consultation)."),
        _observation_code,
        _category("vital-signs"),
        _status(
            "status",
            {s.prefix: _fixed(s.statuses) for s in SOURCES["Observation"]},
            "final, or preliminary (vitals of an unsigned consultation).",
        ),
    ]


@register
class ConditionResource(ClinicalResource):
    type_name = "Condition"
    documentation = "The problem list (prob-) and the diagnoses of consultations (dx-), coded where the list is."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _date("recorded-date", "When the problem was recorded or the diagnosis made."),
        _condition_category,
        _status(
            "clinical-status",
            {"prob": _fixed(SOURCES["Condition"][0].statuses)},
            "active or resolved (problems; diagnoses have none).",
        ),
    ]


@register
class ImmunizationResource(ClinicalResource):
    type_name = "Immunization"
    documentation = "Vaccinations given: product, batch and expiry, route, site, performers."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _date("date", "The day given."),
        _status("status", {"": _fixed(SOURCES["Immunization"][0].statuses)}, "Always completed."),
    ]


@register
class ImmunizationRecommendationResource(ClinicalResource):
    type_name = "ImmunizationRecommendation"
    documentation = "Reminders: what is due, when (dateCriterion 30980-7), and its forecast status."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _date("date", "The due date."),
        _status("status", {"": _recommendation_status()}, "due, overdue or complete (cancelled: none)."),
    ]


@register
class MedicationRequestResource(ClinicalResource):
    type_name = "MedicationRequest"
    documentation = "Prescriptions (repeats as numberOfRepeatsAllowed; each dispensing is a MedicationDispense)."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _date("authoredon", "The day prescribed and dispensed."),
        _status(
            "status",
            {
                "": {
                    "active": lambda: Q(repeats__gt=F("repeats_used")),
                    "completed": lambda: Q(repeats__lte=F("repeats_used")),
                }
            },
            "active (repeats remain) or completed.",
        ),
    ]


def _prescription(source: Source) -> SearchParam:
    """prescription=MedicationRequest/12: the dispensings of prescription 12, its first and its repeats."""

    def to_q(value: str, modifier: str) -> Q:
        if modifier and modifier != "MedicationRequest":
            raise bad_request(f"prescription refers to MedicationRequest resources, not {modifier}.")
        pk = reference_id(value, "MedicationRequest", "prescription")
        return (Q(pk=pk, repeat_of__isnull=True) | Q(repeat_of_id=pk)) if pk is not None else NOTHING

    return SearchParam(
        "prescription", "reference", to_q, "The MedicationRequest dispensed.", frozenset({"MedicationRequest"})
    )


@register
class MedicationDispenseResource(ClinicalResource):
    type_name = "MedicationDispense"
    documentation = "Each dispensing of a prescription, the first (type FF) and every repeat (RF)."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _prescription,
        _date("whenhandedover", "The day dispensed."),
        _status("status", {"": _fixed(SOURCES["MedicationDispense"][0].statuses)}, "Always completed."),
    ]


@register
class DocumentReferenceResource(ClinicalResource):
    type_name = "DocumentReference"
    documentation = "Attachments; the content URL is the API's permission-checked download."
    builders: ClassVar[list[ParamBuilder]] = [
        _patient(),
        _patient("subject"),
        _date("date", "When the file was added."),
        _status("status", {"": _fixed(SOURCES["DocumentReference"][0].statuses)}, "Always current."),
    ]
