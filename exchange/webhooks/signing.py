"""Secrets and signatures, exactly as the Standard Webhooks specification has them, so a receiver verifies with
any of its libraries (or ten lines of hmac):

- a secret is ``whsec_`` followed by the base64 of 24 to 64 random bytes; the key is those bytes;
- ``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"));
  while a rotated-out secret is still valid, the header carries both signatures, separated by a space.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32  # within the specification's 24-64


def generate_secret(n_bytes: int = SECRET_BYTES) -> str:
    if not 24 <= n_bytes <= 64:
        raise ValueError("A webhook secret is 24 to 64 random bytes.")
    return PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for."""
    if not secret.startswith(PREFIX):
        raise ValueError("A webhook secret starts with whsec_.")
    try:
        return base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("A webhook secret is whsec_ followed by base64.") from exc


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,`` signature per valid secret, space-separated (the receiver accepts any one that matches)."""
    return " ".join(signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)
