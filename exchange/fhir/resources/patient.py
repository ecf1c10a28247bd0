"""Patient (an animal, with the R4 patient-animal extension) and RelatedPerson (an owner of one animal, one per
ownership period). Mapping: DESIGN.md section 8."""

from __future__ import annotations

from django.db.models import DateTimeField, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest

from animals.models import Animal, Ownership, normalise_microchip
from exchange.fhir import systems
from exchange.fhir.registry import ResourceType, register
from exchange.fhir.resources.common import (
    client_address,
    client_name,
    client_telecom,
    instant,
    reference,
    without_empty,
)
from exchange.fhir.search import NOTHING, date_param, reference_param, string_param, token_param

# R4 animal-genderstatus: neutered, intact, unknown.
GENDER_STATUS = {Animal.Neuter.NEUTERED: "neutered", Animal.Neuter.ENTIRE: "intact", Animal.Neuter.UNKNOWN: "unknown"}
GENDER_STATUS_DISPLAY = {"neutered": "Neutered", "intact": "Intact", "unknown": "Unknown"}
GENDER = {Animal.Sex.MALE: "male", Animal.Sex.FEMALE: "female", Animal.Sex.UNKNOWN: "unknown"}


def owner_relationship(*, with_v2: bool = True) -> dict:
    """An owner as a relationship: the practice's own code (FHIR has no "owner" in v2-0131), with v2-0131 "O"
    (other) beside it in Patient.contact for receivers that only know that value set."""
    codings = [{"system": systems.practice("contact-relationship"), "code": "owner", "display": "Owner"}]
    if with_v2:
        codings.insert(0, {"system": systems.V2_0131, "code": "O", "display": "Other"})
    return {"coding": codings, "text": "Owner"}


def species_concept(species) -> dict:
    if species.snomed_code:
        coding = {"system": systems.SNOMED, "code": species.snomed_code, "display": species.name}
    else:
        coding = {"system": systems.practice("species"), "code": str(species.pk), "display": species.name}
    return {"coding": [coding], "text": species.name}


def animal_extension(animal: Animal) -> dict:
    parts = [{"url": "species", "valueCodeableConcept": species_concept(animal.species)}]
    if animal.breed is not None:
        parts.append(
            {
                "url": "breed",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": systems.practice("breed"),
                            "code": str(animal.breed.pk),
                            "display": animal.breed.name,
                        }
                    ],
                    "text": animal.breed.name,
                },
            }
        )
    status = GENDER_STATUS[animal.neuter_status]
    parts.append(
        {
            "url": "genderStatus",
            "valueCodeableConcept": {
                "coding": [{"system": systems.GENDER_STATUS, "code": status, "display": GENDER_STATUS_DISPLAY[status]}]
            },
        }
    )
    return {"url": systems.PATIENT_ANIMAL, "extension": parts}


def microchip_q(system: str | None, code: str) -> Q:
    if system not in (None, systems.MICROCHIP):
        return NOTHING  # another identifier system: none of ours
    code = normalise_microchip(code)
    return Q(microchip=code) & ~Q(microchip="") if code else NOTHING


@register
class PatientResource(ResourceType):
    type_name = "Patient"
    model = Animal
    read_permissions = ("animals.view_animal",)
    last_updated = "updated_at"
    ordering = ("id",)
    documentation = "An animal patient, with the patient-animal extension; owners as contacts and RelatedPersons."
    search_params = [
        token_param("identifier", microchip_q, documentation=f"The microchip: {systems.MICROCHIP}|<15 digits>."),
        string_param("name", ["name"], documentation="The animal's name (starts with, any case)."),
        date_param("birthdate", "date_of_birth", is_date=True, documentation="The date of birth."),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Animal.objects.select_related("species", "breed", "owner").prefetch_related(
            Prefetch("ownerships", queryset=Ownership.objects.select_related("client").order_by("started_at", "id"))
        )

    def to_fhir(self, obj: Animal, request: HttpRequest) -> dict:
        identifiers = []
        if obj.microchip:
            identifiers.append(
                {
                    "use": "official",
                    "type": {"text": "Microchip (ISO 11784)"},
                    "system": systems.MICROCHIP,
                    "value": obj.microchip,
                }
            )
        ownerships = list(obj.ownerships.all())
        current = [o for o in ownerships if o.ended_at is None]
        owner = current[0].client if current else obj.owner
        contact = without_empty(
            {
                "relationship": [owner_relationship()],
                "name": client_name(owner),
                "telecom": client_telecom(owner),
                "address": client_address(owner),
                "period": {"start": instant(current[0].started_at)} if current else None,
            }
        )
        resource = {
            "extension": [animal_extension(obj)],
            "identifier": identifiers,
            "active": obj.is_active,
            "name": [{"use": "usual", "text": obj.name, "given": [obj.name]}],
            "gender": GENDER[obj.sex],
            "birthDate": obj.date_of_birth.isoformat() if obj.date_of_birth else None,
            "contact": [contact],
            "link": [{"other": reference("RelatedPerson", o.pk), "type": "seealso"} for o in ownerships],
        }
        if obj.deceased_on is not None:
            resource["deceasedDateTime"] = obj.deceased_on.isoformat()
        else:
            resource["deceasedBoolean"] = False
        return without_empty(resource)


@register
class RelatedPersonResource(ResourceType):
    """One owner of one animal for one period: R4 ties a RelatedPerson to exactly one Patient, so a client with
    three animals is three RelatedPersons (and an owner who had the animal twice, two).

    meta.lastUpdated (and ``_lastUpdated``, and so the bulk export's ``_since``) is the latest of the ownership's
    own change, the client's and the animal's: the resource shows the client's name and addresses and the
    animal's name, so a change to either changes it. An ownership row is written when it starts and once more
    when it ends, each time at that moment (animals.services never backdates them), so its own change time is
    its end, or its start while it lasts."""

    type_name = "RelatedPerson"
    model = Ownership
    read_permissions = ("animals.view_animal", "clients.view_client")
    last_updated = "last_changed"  # annotated by queryset()
    ordering = ("id",)
    documentation = "An owner of one animal (one per ownership period)."
    search_params = [
        reference_param("patient", "animal_id", "Patient", documentation="The animal owned."),
        string_param("name", ["client__last_name", "client__first_name", "client__organisation"]),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Ownership.objects.select_related("client", "animal").annotate(
            last_changed=Greatest(
                Coalesce("ended_at", "started_at"),
                "client__updated_at",
                "animal__updated_at",
                output_field=DateTimeField(),
            )
        )

    def to_fhir(self, obj: Ownership, request: HttpRequest) -> dict:
        client = obj.client
        rel = owner_relationship(with_v2=False)
        return without_empty(
            {
                "identifier": [{"system": systems.practice("client"), "value": str(client.pk)}],
                "active": obj.ended_at is None and client.is_active,
                "patient": reference("Patient", obj.animal_id, obj.animal.name),
                "relationship": [rel],
                "name": [client_name(client)],
                "telecom": client_telecom(client),
                "address": [client_address(client)] if client_address(client) else None,
                "period": without_empty({"start": instant(obj.started_at), "end": instant(obj.ended_at)}),
            }
        )
