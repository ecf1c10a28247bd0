import pytest

from exchange.webhooks import services
from tests.exchange.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def allow_private(settings):
    """The receiver listens on 127.0.0.1, which production refuses."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    return settings


@pytest.fixture
def endpoint_for(manager, allow_private):
    """endpoint_for(url, *types) -> (endpoint, secret)."""

    def make(url: str, *types: str):
        return services.endpoint_create(by=manager, url=url, event_types=types or ["client.created"])

    return make
