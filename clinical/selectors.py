"""Reads of the clinical record: consultations with what their pages need, the unsigned list, problems and
alerts, what a visit has been charged, the products that fit a patient, and the one patient history.

Every selector makes a fixed number of queries whatever the number of rows (joins and prefetches here, not in the
templates), and lists page by key, never by OFFSET.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Expression, Prefetch, Q, QuerySet, TextField
from django.utils import timezone

from animals.models import Animal, Species, Weight
from appointments.models import Appointment
from clinical.models import (
    Addendum,
    Attachment,
    Consultation,
    ConsultationDiagnosis,
    Diagnosis,
    Prescription,
    Problem,
    ProductSpecies,
    QuickText,
    Vaccination,
)
from invoicing.models import Invoice, InvoiceLine, Product
from vetpms.models import User, Vet
from vetpms.timeutils import local_day_bounds, to_local


def can_read_notes(user: User) -> bool:
    """Whether ``user`` may read the text of consultations and addenda (vets, nurses, managers; receptionists
    only when the practice sets ``CLINICAL_NOTES_FOR_RECEPTION``)."""
    if user.has_perm("clinical.view_clinical_notes"):
        return True
    return bool(getattr(settings, "CLINICAL_NOTES_FOR_RECEPTION", False)) and user.has_perm(
        "clinical.view_consultation"
    )


def _diagnosis_prefetch() -> Prefetch:
    return Prefetch(
        "diagnosis_links", queryset=ConsultationDiagnosis.objects.select_related("diagnosis").order_by("position")
    )


def consultations() -> QuerySet[Consultation]:
    """Consultations with animal, owner, vet, appointment, weight and signer joined, and diagnoses prefetched."""
    return Consultation.objects.select_related(
        "animal__species", "animal__breed", "animal__owner", "vet", "appointment__type", "weight", "signed_by"
    ).prefetch_related(_diagnosis_prefetch())


def consultation_detail(*, pk: int) -> Consultation:
    """One consultation with everything its page shows: diagnoses, addenda (with authors), vaccinations,
    prescriptions and attachments (DoesNotExist when there is none)."""
    # The animal (with species, breed and owner) comes in a query of its own: joined to the other five tables in
    # one statement, PostgreSQL spent about 3 ms planning the join orders of a one-row look-up, more than the
    # second round trip costs (measured at practice scale: 9.0 -> 6.1 ms for this function). Always one query more,
    # whatever the consultation.
    return (
        Consultation.objects.select_related("vet", "appointment__type", "weight", "signed_by")
        .prefetch_related(
            Prefetch("animal", queryset=Animal.objects.select_related("species", "breed", "owner")),
            _diagnosis_prefetch(),
            Prefetch("addenda", queryset=Addendum.objects.select_related("author").order_by("created_at", "id")),
            Prefetch("vaccinations", queryset=Vaccination.objects.select_related("product", "given_by")),
            Prefetch("prescriptions", queryset=Prescription.objects.select_related("product", "prescribed_by")),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        )
        .get(pk=pk)
    )


def unsigned_overdue(*, vet: Vet | None = None, older_than: dt.timedelta = dt.timedelta(days=1)) -> QuerySet:
    """Draft consultations opened more than ``older_than`` ago, oldest first: one vet's (their to-do list) or,
    with ``vet=None``, everyone's (the manager's)."""
    qs = consultations().filter(status=Consultation.Status.DRAFT, opened_at__lt=timezone.now() - older_than)
    if vet is not None:
        qs = qs.filter(vet=vet)
    return qs.order_by("opened_at", "id")


def animal_consultations(*, animal: Animal) -> QuerySet[Consultation]:
    return consultations().filter(animal=animal).order_by("-opened_at", "-id")


def diagnoses(*, active: bool | None = True, query: str = "") -> QuerySet[Diagnosis]:
    qs = Diagnosis.objects.all()
    if active is not None:
        qs = qs.filter(is_active=active)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__iexact=query))
    return qs.order_by("name")


def quick_texts_for(*, consultation: Consultation, section: str | None = None) -> QuerySet[QuickText]:
    """The quick texts offered in a consultation: those of its appointment's type and those for every type."""
    type_id = consultation.appointment.type_id if consultation.appointment_id else None  # type: ignore[union-attr]
    qs = QuickText.objects.filter(is_active=True).filter(
        Q(appointment_type__isnull=True) | Q(appointment_type_id=type_id)
    )
    if section:
        qs = qs.filter(section=section)
    return qs.order_by("section", "title")


def problems(*, animal: Animal, current_only: bool = False, linked: str = "prefetch") -> QuerySet[Problem]:
    """The animal's problems, current first. ``linked``: "prefetch" the linked consultations, "count" them
    (``consultation_count``, in the same query), or "none"."""
    qs = Problem.objects.filter(animal=animal).select_related("diagnosis")
    if linked == "prefetch":
        qs = qs.prefetch_related("consultations")
    elif linked == "count":
        qs = qs.annotate(consultation_count=Count("consultations"))
    if current_only:
        qs = qs.exclude(status=Problem.Status.RESOLVED)
    return qs.order_by("status", "-onset", "-id")


def alerts_for(*, animal_ids: Iterable[int]) -> dict[int, list[Problem]]:
    """The current problems marked as alerts of each animal, in one query (the day list and page headers)."""
    result: dict[int, list[Problem]] = {}
    ids = list(animal_ids)
    if not ids:
        return result
    rows = (
        Problem.objects.filter(animal_id__in=ids, is_alert=True)
        .exclude(status=Problem.Status.RESOLVED)
        .order_by("animal_id", "-onset", "id")
    )
    for problem in rows:
        result.setdefault(problem.animal_id, []).append(problem)
    return result


def vaccinations(*, animal: Animal) -> QuerySet[Vaccination]:
    return (
        Vaccination.objects.filter(animal=animal)
        .select_related("product", "given_by", "supervising_vet")
        .order_by("-given_on", "-id")
    )


def prescriptions(*, animal: Animal) -> QuerySet[Prescription]:
    return (
        Prescription.objects.filter(animal=animal)
        .select_related("product", "prescribed_by", "dispensed_by", "repeat_of")
        .annotate(repeats_used=Count("repeat_dispensings"))
        .order_by("-dispensed_on", "-id")
    )


def attachments(*, animal: Animal) -> QuerySet[Attachment]:
    return Attachment.objects.filter(animal=animal).select_related("uploaded_by").order_by("-created_at", "-id")


# --- Charges from the consultation -----------------------------------------------------------------------------------


def consultation_charges(*, consultation: Consultation, with_product: bool = True) -> QuerySet[InvoiceLine]:
    """What has been charged for this visit: the lines for the consultation's animal that belong to its
    appointment or were dated on its day, on any invoice that is not void (drafts first, then issued), with their
    invoice (and product, unless not ``with_product``: the page shows the line's own description) joined."""
    day = to_local(consultation.opened_at).date()
    match = Q(service_date=day)
    if consultation.appointment_id:
        match |= Q(appointment_id=consultation.appointment_id)
    return (
        InvoiceLine.objects.filter(animal_id=consultation.animal_id, invoice__kind=Invoice.Kind.INVOICE)
        .filter(match)
        .exclude(invoice__status=Invoice.Status.VOID)
        .select_related("invoice", *(["product"] if with_product else []))
        .order_by("invoice_id", "position", "id")
    )


PRODUCT_SEARCH_LIMIT = 50
# "Most used" means among the practice's most recent charges for animals of the species: of the last RECENT_LINES
# invoice lines (a few weeks of a busy practice), read through the primary key, those charged for an animal of the
# species, so the ranking costs the same with a month of data or ten years (2M lines), and a cat's consultation
# offers what cats are given, not what the dogs seen this month were.
RECENT_LINES = 10_000


def products_for_species(*, species: Species, query: str = "", limit: int = 20) -> list[Product]:
    """Active catalogue products that fit ``species`` (those tied to it through ProductSpecies, and those tied to
    no species), the species' most used first (among the practice's last 10,000 charged lines, those for animals
    of the species), then by name; ``query``
    matches part of the name or the start of the code. At most ``limit`` (<= 50): a search-as-you-type list, never
    the whole catalogue. Four small queries whatever the size of the catalogue or of the invoice history."""
    limit = max(1, min(limit, PRODUCT_SEARCH_LIMIT))
    candidates = Product.objects.filter(is_active=True).filter(
        ~Q(pk__in=ProductSpecies.objects.values("product_id"))
        | Q(pk__in=ProductSpecies.objects.filter(species=species).values("product_id"))
    )
    query = (query or "").strip()
    if query:
        candidates = candidates.filter(Q(name__icontains=query) | Q(code__istartswith=query))
    floor = InvoiceLine.objects.order_by("-id").values_list("id", flat=True)[RECENT_LINES : RECENT_LINES + 1]
    threshold = next(iter(floor), 0)
    usage = (
        InvoiceLine.objects.filter(id__gt=threshold, product_id__isnull=False, animal__species=species)
        .values("product_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:500]
    )
    counts = {row["product_id"]: row["n"] for row in usage}
    ranked = list(candidates.filter(pk__in=list(counts))) if counts else []
    ranked.sort(key=lambda p: (-counts[p.pk], p.name))
    rest = list(candidates.exclude(pk__in=list(counts)).order_by("name")[: max(0, limit - len(ranked))])
    return (ranked + rest)[:limit]


# --- The patient history -------------------------------------------------------------------------------------------

KINDS = ("consultation", "vaccination", "prescription", "weight", "attachment", "appointment", "charge")
# Order of kinds that share a moment (and of date-only entries on one day), newest-first order reversed.
RANK = {kind: i for i, kind in enumerate(reversed(KINDS))}
MAX_PAGE = 100


@dataclass
class HistoryEntry:
    kind: str
    at: dt.datetime  # aware; date-only entries stand at the local midnight that starts their day
    id: int
    obj: Any
    is_date_only: bool = False

    @property
    def key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, RANK[self.kind], self.id)

    @property
    def diagnosis_names(self) -> list[str]:
        return diagnosis_names(self.obj) if self.kind == "consultation" else []


@dataclass
class HistoryPage:
    entries: list[HistoryEntry] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(key: tuple[dt.datetime, int, int]) -> str:
    raw = json.dumps([key[0].isoformat(), key[1], key[2]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int, int]:
    """The key a page ended at; a cursor that was not made by ``encode_cursor`` is a ValueError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, rank, pk = json.loads(raw)
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(rank, int) or not isinstance(pk, int):
            raise ValueError
        return moment, rank, pk
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError("Not a history cursor.") from exc


def _midnight(day: dt.date) -> dt.datetime:
    return local_day_bounds(day)[0]


def _before_datetime(name: str, rank: int, cursor: tuple[dt.datetime, int, int] | None) -> Q:
    """Rows of a kind timed by a datetime column that sort after ``cursor`` (newest first)."""
    if cursor is None:
        return Q()
    at, c_rank, c_id = cursor
    if rank < c_rank:
        return Q(**{f"{name}__lte": at})
    if rank > c_rank:
        return Q(**{f"{name}__lt": at})
    return Q(**{f"{name}__lt": at}) | Q(**{name: at, "pk__lt": c_id})


def _before_date(name: str, rank: int, cursor: tuple[dt.datetime, int, int] | None) -> Q:
    """The same for a kind dated by a date column (its moment is the local midnight of the date)."""
    if cursor is None:
        return Q()
    at, c_rank, c_id = cursor
    day = to_local(at).date()
    if _midnight(day) != at:  # the cursor is inside a day: that day's midnight is already earlier
        return Q(**{f"{name}__lte": day})
    if rank < c_rank:
        return Q(**{f"{name}__lte": day})
    if rank > c_rank:
        return Q(**{f"{name}__lt": day})
    return Q(**{f"{name}__lt": day}) | Q(**{name: day, "pk__lt": c_id})


NAMES_SEPARATOR = "\x1f"  # the ASCII unit separator: never in a diagnosis name


class _DiagnosisNames(Expression):
    """The names of a consultation's diagnoses in their order, joined by NAMES_SEPARATOR, as a correlated subquery
    of a query on the consultations table (not aliased): a history page lists them without a query of its own.
    PostgreSQL's string_agg orders in the aggregate; SQLite's group_concat takes the order of an ordered subquery."""

    output_field = TextField()

    def as_sql(self, compiler, connection):
        q = connection.ops.quote_name
        links, diagnoses = q(ConsultationDiagnosis._meta.db_table), q(Diagnosis._meta.db_table)
        outer = f"{q(Consultation._meta.db_table)}.{q('id')}"
        rows = f"FROM {links} l JOIN {diagnoses} d ON d.id = l.diagnosis_id WHERE l.consultation_id = {outer}"
        if connection.vendor == "postgresql":
            return f"(SELECT string_agg(d.name, chr(31) ORDER BY l.position, l.id) {rows})", ()
        return (
            f"(SELECT group_concat(name, char(31)) FROM (SELECT d.name AS name {rows} ORDER BY l.position, l.id))",  # noqa: S608 - table names from the models
            (),
        )


def diagnosis_names(consultation: Consultation) -> list[str]:
    """The names of a consultation's diagnoses in order: from ``_DiagnosisNames`` when the history read them so,
    else from the prefetched links."""
    if hasattr(consultation, "diagnosis_list"):
        return consultation.diagnosis_list.split(NAMES_SEPARATOR) if consultation.diagnosis_list else []
    return [link.diagnosis.name for link in consultation.diagnosis_links.all()]


def _kind_sources(animal: Animal, *, full: bool = True) -> dict[str, tuple[QuerySet, str, bool]]:
    """Per kind: the animal's rows (with what an entry shows joined), the column that times them, date-only?
    Not ``full``: only what a list of entries shows (the page, the API): a consultation's long texts (history,
    examination, plan), its weight and signer, and a file's uploader are left out."""
    consultations = Consultation.objects.filter(animal=animal)
    if full:
        consultations = consultations.select_related("vet", "weight", "signed_by").prefetch_related(
            _diagnosis_prefetch()
        )
    else:  # the diagnoses' names in the same query (``diagnosis_names``)
        consultations = (
            consultations.select_related("vet")
            .defer("history", "examination", "plan")
            .annotate(diagnosis_list=_DiagnosisNames())
        )
    attachments = Attachment.objects.filter(animal=animal)
    if full:
        attachments = attachments.select_related("uploaded_by")
    return {
        "consultation": (consultations, "opened_at", False),
        "vaccination": (
            Vaccination.objects.filter(animal=animal).select_related("product", "given_by"),
            "given_on",
            True,
        ),
        "prescription": (
            Prescription.objects.filter(animal=animal).select_related("product", "prescribed_by"),
            "dispensed_on",
            True,
        ),
        "weight": (Weight.objects.filter(animal=animal), "measured_on", True),
        "attachment": (attachments, "created_at", False),
        "appointment": (
            Appointment.objects.filter(animal=animal).select_related("vet", "type"),
            "start",
            False,
        ),
        "charge": (
            InvoiceLine.objects.filter(animal=animal, invoice__kind=Invoice.Kind.INVOICE)
            .exclude(invoice__status=Invoice.Status.VOID)
            .select_related("invoice"),
            "service_date",
            True,
        ),
    }


def history(
    *,
    animal: Animal,
    kinds: Iterable[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    cursor: str | None = None,
    limit: int = 50,
    full: bool = True,
) -> HistoryPage:
    """The animal's one time-ordered history, newest first: consultations (with diagnoses), vaccinations,
    prescriptions, weights, attachments, appointments and charges, optionally only some ``kinds`` and local days
    ``since``..``until`` (inclusive). Paged by key: ``cursor`` is the previous page's ``next_cursor``. Not ``full``:
    only what a list of entries shows is read (see ``_kind_sources``); the PDF reads everything.

    Each kind reads at most ``limit + 1`` of its newest rows past the cursor through its (animal, time) index
    (and, once ``limit + 1`` entries are in hand, only those newer than the last of them), the pages are merged
    here, so a page costs one query per kind asked for (plus, when ``full``, one for the consultations'
    diagnoses) whether the animal has 6 entries or 6,000. Date-only entries (weights, vaccinations,
    prescriptions, charges) stand at the start of their local day."""
    limit = max(1, min(limit, MAX_PAGE))
    wanted = [k for k in KINDS if kinds is None or k in set(kinds)]
    unknown = set(kinds or ()) - set(KINDS)
    if unknown:
        raise ValueError(f"Unknown history kinds: {', '.join(sorted(unknown))}")
    key = decode_cursor(cursor) if cursor else None
    entries: list[HistoryEntry] = []
    midnights: dict[dt.date, dt.datetime] = {}
    # Once limit + 1 entries are in hand, the last of them bounds the page: nothing older can be on it (nor is
    # needed to know there is a next page), so the kinds read after that read only the rows newer than it.
    bound: tuple[dt.datetime, int, int] | None = None
    for kind, (qs, column, date_only) in _kind_sources(animal, full=full).items():
        if kind not in wanted:
            continue
        rank = RANK[kind]
        before = _before_date if date_only else _before_datetime
        if bound is not None:
            qs = qs.exclude(before(column, rank, bound))
        if date_only:
            qs = qs.filter(_before_date(column, rank, key))
            if since:
                qs = qs.filter(**{f"{column}__gte": since})
            if until:
                qs = qs.filter(**{f"{column}__lte": until})
        else:
            qs = qs.filter(_before_datetime(column, rank, key))
            if since:
                qs = qs.filter(**{f"{column}__gte": _midnight(since)})
            if until:
                qs = qs.filter(**{f"{column}__lt": _midnight(until + dt.timedelta(days=1))})
        for obj in qs.order_by(f"-{column}", "-pk")[: limit + 1]:
            value = getattr(obj, column)
            # In UTC: Python compares two times of one zone by wall clock (ignoring fold), so the merge below
            # would misorder the repeated hour of an autumn clock change.
            if date_only:
                if value not in midnights:
                    midnights[value] = _midnight(value).astimezone(dt.UTC)
                at = midnights[value]
            else:
                at = value.astimezone(dt.UTC)
            entries.append(HistoryEntry(kind=kind, at=at, id=obj.pk, obj=obj, is_date_only=date_only))
        if len(entries) > limit:
            entries.sort(key=lambda e: e.key, reverse=True)
            del entries[limit + 1 :]
            bound = entries[limit].key
    entries.sort(key=lambda e: e.key, reverse=True)
    page = entries[:limit]
    more = len(entries) > limit
    return HistoryPage(entries=page, next_cursor=encode_cursor(page[-1].key) if more and page else None)


def entry_summary(entry: HistoryEntry, *, notes_visible: bool) -> tuple[str, str, list[str]]:
    """(title, detail, diagnosis names) of a history entry as lists and the API show it; consultation text only
    when ``notes_visible``. Reads only what ``history`` joined: no queries."""
    obj = entry.obj
    if entry.kind == "consultation":
        names = diagnosis_names(obj)
        state = "signed" if obj.is_signed else "draft"
        detail = (obj.complaint or obj.assessment or "")[:200] if notes_visible else ""
        return f"Consultation with {obj.vet} ({state})", detail, names
    if entry.kind == "vaccination":
        return f"Vaccination: {obj.product.name}", f"batch {obj.batch}, given by {obj.given_by}", []
    if entry.kind == "prescription":
        what = "Repeat dispensed" if obj.repeat_of_id else "Dispensed"
        return f"{what}: {obj.product.name} x {obj.quantity.normalize():f}", f"{obj.dose} {obj.frequency}", []
    if entry.kind == "weight":
        return f"Weight {obj.kg.normalize():f} kg", "", []
    if entry.kind == "attachment":
        return f"{obj.get_kind_display()}: {obj.title}", obj.content_type, []
    if entry.kind == "appointment":
        return f"Appointment: {obj.type.name} with {obj.vet}", obj.get_status_display(), []
    return f"Charge: {obj.description}", f"{obj.quantity.normalize():f} x {obj.unit_price:f} ({obj.invoice})", []
