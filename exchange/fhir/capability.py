"""The CapabilityStatement, built from the registry: each registered type with its interactions and search
parameters, and the registered operations. Nothing here is written by hand, so it cannot drift from the routes."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from exchange.fhir.registry import operations, registry
from vetpms import __version__

FHIR_VERSION = "4.0.1"


def capability_statement(base_url: str) -> dict:
    resources = []
    for type_name in sorted(registry):
        rt = registry[type_name]
        entry: dict = {
            "type": type_name,
            "interaction": [{"code": code} for code in rt.interactions()],
            "searchParam": [
                {"name": p.name, "type": p.type, **({"documentation": p.documentation} if p.documentation else {})}
                for p in rt.all_search_params().values()
            ],
        }
        if rt.profile:
            entry["profile"] = rt.profile
        if rt.documentation:
            entry["documentation"] = rt.documentation
        type_ops = [op for op in operations if type_name in op.resource_types]
        if type_ops:
            entry["operation"] = [{"name": op.name, "definition": op.definition} for op in type_ops]
        resources.append(entry)
    rest: dict = {
        "mode": "server",
        "security": {
            "service": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}
                    ],
                    "text": "Bearer API tokens with SMART-style system scopes (system/*.read, system/Patient.read).",
                }
            ],
            "description": (
                "Authorization: Bearer <VetPMS API token>. The token's user role applies as in the REST API."
            ),
        },
        "resource": resources,
    }
    system_ops = [op for op in operations if not op.resource_types]
    if system_ops:
        rest["operation"] = [{"name": op.name, "definition": op.definition} for op in system_ops]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": settings.PRACTICE["name"],
        "kind": "instance",
        "software": {"name": "VetPMS", "version": __version__},
        "implementation": {"description": f"VetPMS FHIR R4 server of {settings.PRACTICE['name']}", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json", "application/fhir+json"],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [rest],
    }
