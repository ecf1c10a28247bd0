"""The registry of FHIR resource types: one declaration per type serves its read, its search and its line in the
CapabilityStatement, so what ``/fhir/R4/metadata`` says is exactly what is routed.

How to add a resource type
--------------------------
Write a subclass of ``ResourceType`` in a module under ``exchange/fhir/resources/``, decorate it with
``@register``, and import the module in ``exchange/fhir/resources/__init__.py``::

    @register
    class PatientResource(ResourceType):
        type_name = "Patient"                          # the FHIR type: routes [base]/Patient and Patient/[id]
        model = Animal                                 # ids are this model's primary keys
        read_permissions = ("animals.view_animal",)    # the role check, as in the REST API
        last_updated = "updated_at"                    # meta.lastUpdated and the _lastUpdated parameter (or None)
        ordering = ("id",)                             # keyset order of search pages; must end in a unique column
        search_params = [                              # besides _id and _lastUpdated, which every type gets
            token_param("identifier", microchip_q, documentation="The microchip, system|value."),
            string_param("name", ["name"]),
            date_param("birthdate", "date_of_birth", is_date=True),
        ]

        def queryset(self, request):                   # the selector: every join the mapping needs, so a page
            return Animal.objects.select_related(...)  # costs a fixed number of queries

        def to_fhir(self, obj, request) -> dict:       # the mapping; "resourceType" and "id" are added for you
            return {"name": [{"text": obj.name}], ...}

- Search parameters are built with the helpers in ``exchange.fhir.search`` (date/token/string/reference/choice);
  each turns one query value into a ``Q``. The framework handles ``_count``, the keyset cursor in the next/previous
  links (``_cursor``), ``_format``, ``_id``, ``_lastUpdated`` and unknown parameters (``Prefer: handling``).
- Reads return ``get(request, id)`` (default: ``queryset`` by numeric primary key; a miss is a 404).
- A type that is not one model row per resource (Slot, Organization) overrides ``get`` and ``search`` itself and
  returns a ``SearchPage``.
- The bulk export (``$export``) writes every registered type through its ``search``, with ``export_filters()``
  (default none; Slot limits itself to the coming weeks) and ``_lastUpdated`` for ``_since`` where it has one.
- Writes: override ``create(request, body)``, ``update(request, obj, body)`` or ``patch(request, obj, body,
  content_type)``; the interaction then appears in the CapabilityStatement. Declare ``write_permissions``. Everything
  a type does not override answers 405.
- Role checks: ``read_permissions`` / ``write_permissions`` are checked with ``user.has_perms`` before any lookup;
  token scopes (``system/<Type>.read``) are checked by the framework. Finer checks (a field only some roles see)
  belong in ``to_fhir``, which gets the request.
- Operations (``$export``): ``register_operation`` adds the CapabilityStatement line; route the URL in
  ``exchange/fhir/urls.py`` before the generic type/id patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from exchange.fhir.errors import FhirError, bad_request, not_found
from exchange.fhir.search import SearchParam, date_param, id_param, int_id
from vetpms.keyset import InvalidCursor, keyset_page

MAX_COUNT = 200
DEFAULT_COUNT = 20


@dataclass
class Query:
    """A parsed search: the declared parameters to apply, the page wanted, and what was ignored."""

    filters: list[tuple[SearchParam, str, list[str]]]
    count: int
    cursor: str | None
    used: list[tuple[str, str]]  # (key as given, value) of the parameters applied, for the self link
    ignored: list[str]


@dataclass
class SearchPage:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    total: int | None = None  # only when it is cheap to know (FHIR allows leaving it out)


class ResourceType:
    """One FHIR resource type; see the module docstring."""

    type_name: ClassVar[str]
    model: ClassVar[type[Model] | None] = None
    read_permissions: ClassVar[tuple[str, ...]] = ()
    write_permissions: ClassVar[tuple[str, ...]] = ()
    last_updated: ClassVar[str | None] = "updated_at"
    ordering: ClassVar[tuple[str, ...]] = ("id",)
    search_params: ClassVar[list[SearchParam]] = []
    profile: ClassVar[str | None] = None
    documentation: ClassVar[str] = ""

    # --- reading -------------------------------------------------------------------------------------------------

    def queryset(self, request: HttpRequest) -> QuerySet:
        assert self.model is not None, f"{self.type_name} declares neither a model nor its own queryset"
        return self.model._default_manager.all()

    def to_fhir(self, obj: Any, request: HttpRequest) -> dict:
        raise NotImplementedError

    def id_of(self, obj: Any) -> str:
        """The FHIR id of ``obj`` (the primary key; types that are not one row per resource override it)."""
        return str(obj.pk)

    def get(self, request: HttpRequest, resource_id: str) -> Any:
        pk = int_id(resource_id)
        obj = self.queryset(request).filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise not_found(f"{self.type_name}/{resource_id} is not known.")
        return obj

    def search(self, request: HttpRequest, query: Query) -> SearchPage:
        qs = self.queryset(request)
        for param, modifier, values in query.filters:
            qs = qs.filter(param.filter(values, modifier))
        qs = qs.order_by(*self.ordering)
        try:
            page = keyset_page(qs, cursor=query.cursor, per_page=query.count, count=False)
        except InvalidCursor as exc:
            raise bad_request("_cursor: not a cursor of this search (start the search again).") from exc
        return SearchPage(page.rows, page.next_cursor, page.previous_cursor)

    def export_filters(self) -> list[tuple[SearchParam, str, list[str]]]:
        """Filters the bulk export adds to this type's search (none: every resource; Slot: the coming weeks)."""
        return []

    def last_updated_of(self, obj: Any):
        return getattr(obj, self.last_updated) if self.last_updated else None

    def as_resource(self, obj: Any, request: HttpRequest) -> dict:
        """The whole resource for ``obj``: type, id, the mapping and ``meta.lastUpdated``, as a read returns it and
        the bulk export writes it."""
        data = {"resourceType": self.type_name, "id": self.id_of(obj)}
        data.update(self.to_fhir(obj, request))
        updated = self.last_updated_of(obj)
        if updated is not None and "meta" not in data:
            data["meta"] = {"lastUpdated": updated.isoformat()}
        return data

    # --- writing (override to support) --------------------------------------------------------------------------

    def create(self, request: HttpRequest, body: dict) -> Any:
        raise _not_allowed(self.type_name, "create")

    def update(self, request: HttpRequest, obj: Any, body: dict) -> Any:
        raise _not_allowed(self.type_name, "update")

    def patch(self, request: HttpRequest, obj: Any, body: Any, content_type: str) -> Any:
        raise _not_allowed(self.type_name, "patch")

    # --- what the CapabilityStatement says ----------------------------------------------------------------------

    def all_search_params(self) -> dict[str, SearchParam]:
        params = {"_id": id_param()}
        if self.last_updated:
            params["_lastUpdated"] = date_param(
                "_lastUpdated", self.last_updated, documentation="When the resource last changed."
            )
        params.update({p.name: p for p in self.search_params})
        return params

    def interactions(self) -> list[str]:
        found = ["read", "search-type"]
        for name, code in (("create", "create"), ("update", "update"), ("patch", "patch")):
            if getattr(type(self), name) is not getattr(ResourceType, name):
                found.append(code)
        return found


def _not_allowed(type_name: str, interaction: str) -> FhirError:
    return FhirError(
        405, f"{type_name} does not support {interaction}; this server is read-only there.", code="not-supported"
    )


registry: dict[str, ResourceType] = {}


def register(cls: type[ResourceType]) -> type[ResourceType]:
    """Class decorator: serve ``cls.type_name`` with an instance of ``cls``."""
    if cls.type_name in registry:
        raise ValueError(f"FHIR type {cls.type_name} is registered twice")
    registry[cls.type_name] = cls()
    return cls


@dataclass(frozen=True)
class Operation:
    """An operation (``$export``) for the CapabilityStatement: at system level, or on the named resource types."""

    name: str  # without the $
    definition: str  # canonical URL of its OperationDefinition
    resource_types: tuple[str, ...] = ()  # empty: a system-level operation
    documentation: str = ""


operations: list[Operation] = []


def register_operation(operation: Operation) -> Operation:
    operations.append(operation)
    return operation


def resource_type(name: str) -> ResourceType:
    try:
        return registry[name]
    except KeyError:
        raise FhirError(404, f"This server does not serve {name!r} resources.", code="not-supported") from None


Mapper = Callable[[Any, HttpRequest], dict]
