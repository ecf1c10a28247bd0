"""API authentication: per-user bearer tokens, and the browser's session with CSRF on writes.

Tokens are checked through Django's ``authenticate()`` so that django-axes sees every failed attempt and locks
an address out after repeated bad tokens, exactly as it does for the login form. A locked-out address gets a
JSON 429 from the API (``ApiLockedOut``), not axes' HTML lockout page.
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

# axes locks out a username+address pair; every token attempt from one address counts against this name.
AXES_TOKEN_USERNAME = "api-token"  # noqa: S105 - a lockout key, not a secret


class ApiLockedOut(Exception):
    """Too many bad tokens from this address: refused until the cool-off period has passed."""

    def __init__(self) -> None:
        cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
        self.retry_after = int(float(cooloff) * 3600) if isinstance(cooloff, int | float) else None
        super().__init__("Too many failed API token attempts from this address; try again later.")


class ApiTokenBackend(BaseBackend):
    def authenticate(self, request, api_token: str | None = None, **kwargs) -> User | None:
        if not api_token or not api_token.startswith(ApiToken.PREFIX) or len(api_token) > 200:
            return None
        token = (
            ApiToken.objects.live()
            .select_related("user")
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


class BearerToken(HttpBearer):
    """``Authorization: Bearer vpms_...``: acts as the token's user, with that user's permissions."""

    def authenticate(self, request, token: str) -> User | None:
        user = authenticate(request=request, api_token=token, username=AXES_TOKEN_USERNAME)
        if getattr(request, "axes_locked_out", False):
            # axes flagged the request (this failure reached the limit, or the address was already locked out,
            # in which case even a good token is refused). Answer in JSON here and clear the flag so
            # AxesMiddleware does not swap the response for its HTML page.
            request.axes_locked_out = False
            raise ApiLockedOut()
        if user is not None:
            request.user = user
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
