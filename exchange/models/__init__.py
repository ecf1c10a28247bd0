"""The exchange app's models, one module per area; each area adds its import line here."""

from exchange.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
