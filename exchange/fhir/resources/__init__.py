"""The resource types the FHIR server serves; each module registers its types (exchange.fhir.registry).
Add a module's import here to serve its types."""

from exchange.fhir.resources import (
    clinical,  # noqa: F401
    finance,  # noqa: F401
    patient,  # noqa: F401
    scheduling,  # noqa: F401
)
