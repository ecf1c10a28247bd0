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


class RefuseNulMiddleware:
    """A request with a NUL character in its path, query string or form fields is answered 400, before any view.

    No one types NUL, and PostgreSQL cannot hold it in text: passed on to a search or a lookup it is a database
    error (a 500) on PostgreSQL while SQLite shrugs. Refusing it here, once, covers every page and endpoint, the
    anonymous calendar feed included. (JSON bodies are the API schemas' job: they refuse NUL with a 422.)
    """

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return bad_request_response(request, "The request contains a NUL character.")
        return self.get_response(request)

    def _has_nul(self, request) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in [key, *values]):
            return True
        # Form bodies of pages only: the CSRF check parses them anyway, while the API reads its body itself (a
        # multipart body parsed here would be a consumed stream there) and its schemas refuse NUL.
        if (
            request.method in {"POST", "PUT", "PATCH"}
            and request.content_type in self.FORM_TYPES
            and not request.path_info.startswith("/api/")
        ):
            return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.POST.lists())
        return False


def bad_request_response(request, detail: str):
    """400 in the shape the caller reads: JSON under /api/, the branded page elsewhere."""
    from django.http import HttpResponseBadRequest, JsonResponse
    from django.template.loader import render_to_string

    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=400)
    if request.path_info.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": detail}],
        }
        return JsonResponse(outcome, status=400, content_type="application/fhir+json")
    return HttpResponseBadRequest(render_to_string("400.html", {"detail": detail}, request=None))
