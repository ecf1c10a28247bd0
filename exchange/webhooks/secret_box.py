"""Webhook signing secrets at rest: encrypted under a key derived from SECRET_KEY, so a copy of the database (a
backup, a replica, a dump sent to support) does not let its holder sign messages that receivers would trust.

Why not a library: VetPMS's dependencies hold no encryption library (``cryptography`` is not installed, and
adding one is a decision for the lock files, not for this module), and signing needs the secret itself, so it
cannot be hashed like a password. This uses only HMAC-SHA256 from the standard library, in the textbook
encrypt-then-MAC construction:

- two keys derived from SECRET_KEY with Django's ``salted_hmac`` under separate salts (one encrypts, one
  authenticates);
- encryption: a fresh random 16-byte nonce per value; the keystream is HMAC-SHA256(enc key, nonce || block
  counter), HMAC used as a pseudo-random function in counter mode, XORed with the secret;
- authentication: HMAC-SHA256(mac key, version || nonce || ciphertext), compared in constant time *before*
  anything is decrypted, so a changed, truncated or foreign value is refused, never misread.

Stored form: ``enc1$`` + URL-safe base64(nonce || ciphertext || tag). The prefix names the scheme, so moving to a
library's format later (Fernet, say) is a new prefix and a data migration, with both readable meanwhile.

Changing SECRET_KEY: keep the old key in ``SECRET_KEY_FALLBACKS`` and the stored secrets still open (a secret
rotated afterwards is sealed under the new key). Without it they cannot be opened: deliveries fail with that
reason until a manager rotates the endpoint's secret and gives the receiver the new one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "enc1$"
_NONCE = 16
_TAG = 32
_BLOCK = 32  # bytes of keystream per HMAC-SHA256 block


class SecretUnreadable(Exception):
    """A stored secret that no current or fallback SECRET_KEY opens (the key changed, or the value was altered)."""


def _keys(secret_key: str) -> tuple[bytes, bytes]:
    encrypt = salted_hmac("vetpms.webhooks.secret_box.encrypt", "v1", secret=secret_key, algorithm="sha256")
    authenticate = salted_hmac("vetpms.webhooks.secret_box.authenticate", "v1", secret=secret_key, algorithm="sha256")
    return encrypt.digest(), authenticate.digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        for counter in range((length + _BLOCK - 1) // _BLOCK)
    )
    return b"".join(blocks)[:length]


def _tag(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return hmac.new(key, PREFIX.encode() + nonce + ciphertext, hashlib.sha256).digest()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(plaintext: str, *, secret_key: str | None = None) -> str:
    """``plaintext`` encrypted and authenticated under (a key derived from) SECRET_KEY."""
    encrypt, authenticate = _keys(secret_key or settings.SECRET_KEY)
    data = plaintext.encode()
    nonce = secrets.token_bytes(_NONCE)
    ciphertext = bytes(a ^ b for a, b in zip(data, _keystream(encrypt, nonce, len(data)), strict=True))
    return PREFIX + base64.urlsafe_b64encode(nonce + ciphertext + _tag(authenticate, nonce, ciphertext)).decode()


def unseal(value: str) -> str:
    """The secret ``seal`` stored, opened with SECRET_KEY or one of SECRET_KEY_FALLBACKS; SecretUnreadable when
    none opens it."""
    if not is_sealed(value):
        raise SecretUnreadable("The stored webhook secret is not in an encrypted form this version reads.")
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
    except (binascii.Error, ValueError) as exc:
        raise SecretUnreadable("The stored webhook secret is damaged.") from exc
    if len(raw) < _NONCE + _TAG:
        raise SecretUnreadable("The stored webhook secret is damaged.")
    nonce, ciphertext, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    for secret_key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        encrypt, authenticate = _keys(secret_key)
        if hmac.compare_digest(tag, _tag(authenticate, nonce, ciphertext)):
            stream = _keystream(encrypt, nonce, len(ciphertext))
            return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True)).decode()
    raise SecretUnreadable(
        "The stored webhook secret does not open with SECRET_KEY (was it changed without SECRET_KEY_FALLBACKS?)."
    )
