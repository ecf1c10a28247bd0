"""Pieces several mappings share: people's names, contact points, addresses, references, instants."""

from __future__ import annotations

import datetime as dt

from clients.models import Client


def reference(type_name: str, pk: object, display: str = "") -> dict:
    ref: dict = {"reference": f"{type_name}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def instant(value: dt.datetime | None) -> str | None:
    """An aware datetime as a FHIR instant (UTC, seconds)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def client_name(client: Client) -> dict:
    name: dict = {"text": client.person_name or client.display_name}
    if client.last_name:
        name["family"] = client.last_name
    if client.first_name:
        name["given"] = [client.first_name]
    if client.title:
        name["prefix"] = [client.title]
    return name


def client_telecom(client: Client) -> list[dict]:
    telecom = []
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    for field, use in (("mobile_phone", "mobile"), ("home_phone", "home"), ("work_phone", "work")):
        number = getattr(client, field)
        if number:
            telecom.append({"system": "phone", "value": number, "use": use})
    return telecom


def client_address(client: Client) -> dict | None:
    address: dict = {}
    lines = [line for line in (client.address_line1, client.address_line2) if line]
    if lines:
        address["line"] = lines
    for key, value in (
        ("city", client.town),
        ("district", client.county),
        ("postalCode", client.postcode),
        ("country", client.country),
    ):
        if value:
            address[key] = value
    return address or None


def without_empty(data: dict) -> dict:
    """Drop keys whose value is None, "" or an empty list/dict (FHIR forbids empty elements)."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}
