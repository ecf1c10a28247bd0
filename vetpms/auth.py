"""API authentication: per-user bearer tokens, and the browser's session with CSRF on writes.

Tokens are checked through Django's ``authenticate()`` so that django-axes sees every failed attempt. Failures
are counted per presented token (a hash of it, ``token_lockout_key``) and client address: a misbehaving client
that keeps sending one bad token is locked out, while a valid token, whose hash no failure ever carried, is never
locked by anyone else's bad tokens. (A token has 256 bits of entropy; guessing is not what the lockout is for.)
A locked-out token gets a JSON 429 from the API (``ApiLockedOut``), not axes' HTML lockout page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.backends import BaseBackend
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from vetpms.models import ApiToken, User
from vetpms.scopes import token_scopes


def token_lockout_key(token: str) -> str:
    """The name axes counts a token's failures under: a hash, so the secret itself is never stored. The colon
    keeps it apart from every real username (Django's usernames cannot contain one)."""
    return "api-token:" + ApiToken.hash_secret(token)[:32]


class ApiLockedOut(Exception):
    """Too many bad tokens from this address: refused until the cool-off period has passed."""

    def __init__(self) -> None:
        cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
        self.retry_after = int(float(cooloff) * 3600) if isinstance(cooloff, int | float) else None
        super().__init__("Too many failed attempts with this API token from this address; try again later.")


class ApiTokenBackend(BaseBackend):
    def authenticate(self, request, api_token: str | None = None, **kwargs) -> User | None:
        if not api_token or not api_token.startswith(ApiToken.PREFIX) or len(api_token) > 200:
            return None
        token = (
            ApiToken.objects.live()
            .select_related("user", "created_by")
            .filter(key_hash=ApiToken.hash_secret(api_token), user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # Throttled so a busy integration does not turn every read into a write.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        user = token.user
        user.api_token = token  # type: ignore[attr-defined]
        return user

    def get_user(self, user_id):
        return None  # tokens never create a session


def token_user(request, token: str) -> User | None:
    """The active user whose live token this is (with ``user.api_token`` set), or None. Raises ApiLockedOut when
    this token has failed too often from this address. Shared by the REST API and the FHIR server."""
    user = authenticate(request=request, api_token=token, username=token_lockout_key(token))
    if getattr(request, "axes_locked_out", False):
        # axes flagged the request (this token's failures from this address reached the limit). Answer in
        # JSON here and clear the flag so AxesMiddleware does not swap the response for its HTML page.
        request.axes_locked_out = False
        raise ApiLockedOut()
    if user is not None:
        request.user = user
    return user


class BearerToken(HttpBearer):
    """``Authorization: Bearer vpms_...``: acts as the token's user, with that user's permissions, narrowed by the
    token's wildcard scopes (vetpms.scopes): a read-only token gets 403 on every write."""

    def authenticate(self, request, token: str) -> User | None:
        user = token_user(request, token)
        if user is not None:
            action = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
            if not token_scopes(user).allows_all(action):
                raise HttpError(403, f"This API token's scopes do not allow {action}s through the REST API.")
        return user


class SessionCsrfAuth(SessionAuth):
    """The browser's Django session; unsafe methods must carry the CSRF token (``X-CSRFToken`` header).

    Unlike ninja's ``SessionAuth(csrf=True)``, a request without a logged-in session is simply not
    authenticated (401) instead of failing the CSRF check first (403), so "who are you?" and "prove this came
    from our page" stay distinct answers.
    """

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(
                403,
                "CSRF check failed: a write with a session cookie must send the CSRF token in the X-CSRFToken header.",
            )
        return request.COOKIES.get(self.param_name)
