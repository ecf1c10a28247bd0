"""One-click unsubscribe from reminder emails (RFC 8058), for owners, who do not log in.

Every reminder email carries a signed link to ``/r/unsubscribe/<token>/`` in its body and in its
``List-Unsubscribe`` header, with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``:

- a mail program unsubscribes with a POST of ``List-Unsubscribe=One-Click`` to that address (no cookies, no CSRF
  token: the signature is the proof);
- an owner who clicks the link gets a page with one button (a GET never unsubscribes, because mail scanners open
  links);
- either way the owner's consent is withdrawn through ``clients.services.client_set_consent`` (recorded with the
  time, audited), and doing it again changes nothing;
- a tampered or expired token gets a page that says so, and nothing changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from clients.models import Client
from clients.services import client_set_consent

SALT = "reminders.unsubscribe"


def make_token(*, client_id: int, delivery_id: int | None = None) -> str:
    return signing.dumps({"c": client_id, "d": delivery_id}, salt=SALT)


def read_token(token: str) -> dict:
    """The token's content; raises signing.BadSignature (tampered) or signing.SignatureExpired (too old)."""
    max_age = settings.REMINDER_UNSUBSCRIBE_MAX_AGE_DAYS * 86400
    data = signing.loads(token, salt=SALT, max_age=max_age)
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise signing.BadSignature("unexpected token content")
    return data


def unsubscribe_url(*, client_id: int, delivery_id: int | None = None) -> str:
    token = make_token(client_id=client_id, delivery_id=delivery_id)
    return settings.SITE_URL + reverse("reminders_public:unsubscribe", args=[token])


def masked_email(address: str) -> str:
    """j***@example.org: enough for an owner to recognise, not enough to harvest."""
    local, _, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else ""


def _refused(request: HttpRequest, *, expired: bool) -> HttpResponse:
    return render(
        request,
        "reminders/unsubscribe_invalid.html",
        {"expired": expired, "practice": settings.PRACTICE},
        status=400,
    )


@method_decorator(csrf_exempt, name="dispatch")  # RFC 8058: mail programs POST without cookies or tokens
class UnsubscribeView(View):
    http_method_names = ["get", "post"]

    def _client_or_refusal(self, request: HttpRequest, token: str) -> Client | HttpResponse:
        try:
            data = read_token(token)
        except signing.SignatureExpired:
            return _refused(request, expired=True)
        except signing.BadSignature:
            return _refused(request, expired=False)
        client = Client.objects.filter(pk=data["c"]).first()
        return client if client is not None else _refused(request, expired=False)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        client = self._client_or_refusal(request, token)
        if isinstance(client, HttpResponse):
            return client
        return render(
            request,
            "reminders/unsubscribe.html",
            {"email": masked_email(client.email), "done": not client.reminder_consent, "practice": settings.PRACTICE},
        )

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        client = self._client_or_refusal(request, token)
        if isinstance(client, HttpResponse):
            return client
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        already = not client.reminder_consent
        client_set_consent(
            client=client,
            by=None,
            consent=False,
            note="one-click unsubscribe from the mail program" if one_click else "unsubscribe link in a reminder email",
        )
        if one_click:
            return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
        return render(
            request,
            "reminders/unsubscribe.html",
            {"email": masked_email(client.email), "done": True, "just_now": not already, "practice": settings.PRACTICE},
        )


unsubscribe = login_not_required(UnsubscribeView.as_view())
