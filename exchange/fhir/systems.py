"""Code systems and identifier systems: the standard ones, and the practice's own (under FHIR_SYSTEM_BASE).

The practice's own URIs name things only this practice defines (its species list, its appointment types, its
microchip register as an identifier namespace); a receiving system keys on them, so they must not change once
data has been exchanged. FHIR_SYSTEM_BASE (a setting, default the practice's SITE_URL + /fhir) is their root.
"""

from __future__ import annotations

from django.conf import settings

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PATIENT_ANIMAL = "http://hl7.org/fhir/StructureDefinition/patient-animal"
GENDER_STATUS = "http://hl7.org/fhir/animal-genderstatus"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"  # identifier types
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"  # contact relationship
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"


def base() -> str:
    configured = getattr(settings, "FHIR_SYSTEM_BASE", "") or f"{settings.SITE_URL}/fhir"
    return configured.rstrip("/")


def practice(name: str) -> str:
    """The URI of one of the practice's own code or identifier systems, e.g. practice("species")."""
    return f"{base()}/{name}"


# ISO 11784 transponder codes are unique worldwide, so the identifier system is the standard's own OID
# (iso(1) standard(0) 11784) rather than a practice URI: two practices name the same chip the same way.
MICROCHIP = "urn:oid:1.0.11784"
