"""API token authentication.

Tokens are checked through Django's ``authenticate()`` so that django-axes sees every failed attempt and locks
an address out after repeated bad tokens, exactly as it does for the login form.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.backends import BaseBackend
from django.utils import timezone
from ninja.security import HttpBearer

from vetpms.models import ApiToken, User


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
    def authenticate(self, request, token: str) -> User | None:
        # axes keys lockouts on username+address; every bad token from one address counts against "api-token".
        user = authenticate(request=request, api_token=token, username="api-token")
        if user is not None:
            request.user = user
        return user
