"""The SSRF guard and the one HTTP request a delivery makes.

A webhook URL is typed by a person and fetched by the server, so it could point the server at itself or at the
practice's own network (a router's admin page, a database, a cloud metadata service). ``resolve`` refuses every
URL whose host resolves to an address that is not public (private, loopback, link-local, shared, multicast,
reserved, unspecified; IPv4-mapped IPv6 judged by its IPv4 address) unless ``WEBHOOKS_ALLOW_PRIVATE`` is on (for
development and the tests). It runs when an endpoint is registered or changed, and again before every delivery.

DNS rebinding (a name that resolves to a public address when checked and to 127.0.0.1 a moment later) cannot slip
through: ``post`` connects to the very address ``resolve`` approved, sending the host name only in ``Host`` and
TLS SNI (the certificate is still verified against the name). Redirects are never followed (http.client does not),
so a 3xx is simply a failed attempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_ANSWER_BYTES = 4096  # what is read of an answer: only its status matters


class UnsafeUrl(ValueError):
    """A URL the server will not post to, and why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_syntax(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL without credentials; UnsafeUrl otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"Not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeUrl("Put no user name or password in the URL; the signature authenticates the messages.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """Check ``url`` and resolve its host; every address it resolves to must be public (one bad address is
    enough to refuse: the system resolver might pick it next time)."""
    scheme, host, port, path = check_syntax(url)
    if allow_private is None:
        allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"The host {host} cannot be resolved.") from exc
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UnsafeUrl(f"The host {host} has no address.")
    if not allow_private:
        refused = [a for a in addresses if not is_public(ipaddress.ip_address(a))]
        if refused:
            raise UnsafeUrl(
                f"{host} resolves to {refused[0]}, a private, loopback, link-local or reserved address: "
                "webhooks go to public addresses only."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to the checked address; the answer's status code. Raises OSError (refused, timed out, TLS)
    or http.client.HTTPException (not HTTP)."""
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return response.status
    finally:
        connection.close()
