"""The resource types the FHIR server serves; each module registers its types (exchange.fhir.registry).
Add a module's import here to serve its types."""

from exchange.fhir.resources import patient  # noqa: F401
