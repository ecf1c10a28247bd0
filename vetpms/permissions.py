"""Permission checks shared by HTML views and API endpoints (they check permissions, never group names)."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

MESSAGES = {
    "view": "Your role does not allow you to see this.",
    "default": "Your role does not allow you to do this.",
}


def require_perm(user, *perms: str) -> None:
    """Raise PermissionDenied (403) unless ``user`` holds every permission in ``perms``."""
    if not user.is_authenticated or not user.has_perms(perms):
        kind = "view" if all(p.split(".", 1)[1].startswith("view_") for p in perms) else "default"
        raise PermissionDenied(MESSAGES[kind])


def permission_required(*perms: str):
    """View decorator: 403 (the friendly page) rather than a login redirect for a logged-in user without rights."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require_perm(request.user, *perms)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
