"""System checks for settings that `check --deploy` must refuse: what owners receive has to work outside this
machine. Links in emails (unsubscribe, calendar) need a public HTTPS address (RFC 8058 wants HTTPS for one-click
unsubscribe), and the sender needs a domain that accepts replies and bounces."""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]"}  # noqa: S104 - names, not a bind address


def _is_local(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


@register(Tags.security, deploy=True)
def check_site_url(app_configs=None, **kwargs) -> list[Error]:
    url = urlsplit(settings.SITE_URL)
    if url.scheme != "https" or not url.hostname or _is_local(url.hostname):
        return [
            Error(
                f"SITE_URL is {settings.SITE_URL!r}: the links in owners' emails (unsubscribe, calendar) would not "
                "open for them.",
                hint="Set SITE_URL to the public HTTPS address of VetPMS, e.g. https://vetpms.example.org.",
                id="vetpms.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_sender(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in ("DEFAULT_FROM_EMAIL", "PRACTICE_EMAIL"):
        value = settings.DEFAULT_FROM_EMAIL if name == "DEFAULT_FROM_EMAIL" else settings.PRACTICE["email"]
        domain = parseaddr(value)[1].rpartition("@")[2]
        if not domain or _is_local(domain) or "." not in domain:
            errors.append(
                Error(
                    f"{name} is {value!r}: mail from a local address is refused or bounced by owners' mail servers.",
                    hint=f"Set {name} to an address of the practice's domain, e.g. reception@vetpms.example.org.",
                    id="vetpms.E002",
                )
            )
    return errors
