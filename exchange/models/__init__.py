"""The exchange app's models, one module per area; each area adds its import line here."""

from exchange.models.datarights import Erasure  # noqa: F401
from exchange.models.fhir_export import ExportJob  # noqa: F401
from exchange.models.importing import *  # noqa: F403
from exchange.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
