"""The address a request really came from, for lockouts and logs.

Behind the TLS proxy the README describes, every request arrives from the proxy's own address; the client's
address is in ``X-Forwarded-For``. That header is trusted only when the request comes from an address listed in
``TRUSTED_PROXIES``: anyone else could write any address into it and pick whose failures count against whom.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in proxies)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or, when that is a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy (read from the right: the left end is whatever the
    client chose to send)."""
    remote = _parse(request.META.get("REMOTE_ADDR", "")) or ipaddress.ip_address("0.0.0.0")  # noqa: S104
    networks = _trusted(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for part in reversed(forwarded):
        address = _parse(part)
        if address is None:
            break  # a malformed hop: stop at the last address we can vouch for
        remote = address
        if not _is_trusted(address, networks):
            break
    return str(remote)
