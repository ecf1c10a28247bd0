from __future__ import annotations

import time

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page requires a login, except views marked ``@login_not_required``.

    The API authenticates itself (session + CSRF or a bearer token) and answers 401 in JSON, so it is left to ninja
    rather than redirected to the login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class SlidingSessionMiddleware:
    """Push an active session's expiry back, writing the session at most once per ``TOUCH_SECONDS``.

    With SESSION_SAVE_EVERY_REQUEST every page would write the session row; here a signed-in user's session is
    marked modified only when its last touch is older than a minute, so the idle timeout still slides with
    activity (to within a minute) at a fraction of the writes.
    """

    TOUCH_SECONDS = 60
    KEY = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get("_auth_user_id"):
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= self.TOUCH_SECONDS:
                session[self.KEY] = now
        return self.get_response(request)


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every answer that does not say otherwise.

    Pages, PDFs, CSV and API JSON carry clients' and patients' data; no browser cache, shared proxy or "back"
    button on a shared front-desk computer may keep a copy. A view that knows its answer may be cached (the
    appointment-type stylesheet, the calendar feed) sets its own Cache-Control, which is left alone. Static files
    never get here: WhiteNoise, above this middleware, serves them with their own long cache headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
