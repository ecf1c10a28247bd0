"""Webhook signing secrets at rest: encrypted under a key derived from SECRET_KEY, so a copy of the database (a
backup, a replica, a dump sent to support) does not let its holder sign messages that receivers would trust.

Signing needs the secret itself, so it cannot be hashed like a password; it is sealed with Fernet from the
``cryptography`` package (AES-128-CBC with HMAC-SHA256, authenticated before anything is decrypted, a fresh IV per
value): a maintained, reviewed construction rather than one of our own. Its key is derived from SECRET_KEY with
Django's ``salted_hmac`` under a purpose of its own, so the key is never stored anywhere.

Stored form: ``fernet$`` + the Fernet token. The prefix names the scheme, so a later change of scheme is a new
prefix and a data migration, with both readable meanwhile.

Changing SECRET_KEY: keep the old key in ``SECRET_KEY_FALLBACKS`` and the stored secrets still open (a secret
rotated afterwards is sealed under the new key). Without it they cannot be opened: deliveries fail with that
reason until a manager rotates the endpoint's secret and gives the receiver the new one.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "fernet$"


class SecretUnreadable(Exception):
    """A stored secret that no current or fallback SECRET_KEY opens (the key changed, or the value was altered)."""


def _fernet(secret_key: str) -> Fernet:
    digest = salted_hmac("vetpms.webhooks.secret_box", "fernet-v1", secret=secret_key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(plaintext: str, *, secret_key: str | None = None) -> str:
    """``plaintext`` encrypted and authenticated under (a key derived from) SECRET_KEY."""
    return PREFIX + _fernet(secret_key or settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


def unseal(value: str) -> str:
    """The secret ``seal`` stored, opened with SECRET_KEY or one of SECRET_KEY_FALLBACKS; SecretUnreadable when
    none opens it."""
    if not is_sealed(value):
        raise SecretUnreadable("The stored webhook secret is not in an encrypted form this version reads.")
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    try:
        return MultiFernet([_fernet(key) for key in keys]).decrypt(value[len(PREFIX) :].encode()).decode()
    except (InvalidToken, ValueError, UnicodeDecodeError) as exc:
        raise SecretUnreadable(
            "The stored webhook secret does not open with SECRET_KEY (was it changed without SECRET_KEY_FALLBACKS?)."
        ) from exc
