"""Shared fixtures: one user per role, a logged-in test client per role, and API helpers."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tests.factories import UserFactory, make_token
from vetpms.models import Role


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    wants = set(request.fixturenames)
    return bool({"transactional_db", "live_server"} & wants) or bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """A transactional test starts with the rows the migrations load, whatever ran before it.

    Each transactional test empties every table when it ends (the flush's post_migrate puts back content types,
    permissions and schedules), and pytest-django runs them after the others, so the next would start without
    role groups, species or tax rates. Each one puts those back first (idempotent, a few queries). The suite
    does not use ``serialized_rollback``: mixed with plain transactional tests its reload collides with the
    content types the flush recreated, and it does not reach the connection a live server thread uses.
    """
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from tests.reference_data import ensure_reference_data

    ensure_reference_data()


@pytest.fixture
def receptionist(db):
    return UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)


@pytest.fixture
def vet_user(db):
    return UserFactory(username="victor", first_name="Victor", last_name="Vet", role=Role.VET)


@pytest.fixture
def manager(db):
    return UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)


@pytest.fixture
def nobody(db):
    """A logged-in user with no role at all."""
    return UserFactory(username="norole", first_name="No", last_name="Role")


@pytest.fixture
def users(receptionist, vet_user, manager, nobody):
    return {"receptionist": receptionist, "vet": vet_user, "manager": manager, "nobody": nobody}


def _logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def as_receptionist(receptionist):
    return _logged_in(receptionist)


@pytest.fixture
def as_vet(vet_user):
    return _logged_in(vet_user)


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


@pytest.fixture
def login():
    """login(user) -> a Django test client with that user's session."""
    return _logged_in


@pytest.fixture
def bearer():
    """bearer(user) -> headers dict carrying a fresh API token of that user."""

    def make(user):
        _, secret = make_token(user)
        return {"Authorization": f"Bearer {secret}"}

    return make


# --- A real SMTP server for email tests (invoices now; the reminders issue reuses it) ----------------------------
# aiosmtpd listens on 127.0.0.1 on a free port in a background thread; Django's SMTP backend is pointed at it, so
# a test sees exactly what a mail server would receive: envelope, headers, parts and attachments.


class _Inbox:
    """What the local SMTP server accepted: ``envelopes`` (aiosmtpd Envelope) and ``messages`` (parsed)."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list:
        import email
        from email import policy

        return [
            email.message_from_bytes(e.original_content or e.content, policy=policy.default) for e in self.envelopes
        ]


@pytest.fixture
def smtp_server(settings):
    """A running local SMTP server with the email settings pointed at it; yields its inbox."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    inbox.port = port  # for tests that start worker processes pointed at this server
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield inbox
    finally:
        controller.stop()
