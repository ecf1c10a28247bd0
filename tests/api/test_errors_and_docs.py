"""What the API answers outside its endpoints: unknown paths, slashes, methods; the public schema and docs."""

import pytest

from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/clients/1/nothing", "/api/v1/clients/abc/deactivate"])
@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_unknown_api_path_is_404_json_with_or_without_credentials(path, method, receptionist, api_as, anonymous):
    for api in (api_as(receptionist), anonymous):
        response = api.get(path) if method == "get" else getattr(api, method)(path, {})
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_a_nul_in_an_api_path_is_400_json(method, receptionist, api_as, anonymous):
    for api in (api_as(receptionist), anonymous):
        response = api.get("/api/v1/%00") if method == "get" else getattr(api, method)("/api/v1/%00", {})
        assert response.status_code == 400
        assert response.json() == {"detail": "The request contains a NUL character."}


def test_trailing_slash_redirects_to_the_canonical_path_keeping_the_query(receptionist, api_as):
    response = api_as(receptionist).get("/api/v1/clients/", {"limit": 5})
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/clients?limit=5"


def test_method_not_allowed_is_405_not_500(receptionist, api_as):
    client = ClientFactory()
    api = api_as(receptionist)
    assert api.http.delete(f"/api/v1/clients/{client.pk}", headers=api.headers).status_code == 405
    assert api.http.put(f"/api/v1/clients/{client.pk}", headers=api.headers).status_code == 405


def test_openapi_schema_is_public_and_lists_every_endpoint(anonymous):
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in [
        "/api/v1/clients",
        "/api/v1/clients/{client_id}",
        "/api/v1/clients/{client_id}/deactivate",
        "/api/v1/clients/{client_id}/reactivate",
        "/api/v1/animals",
        "/api/v1/animals/{animal_id}",
        "/api/v1/animals/{animal_id}/transfer",
        "/api/v1/animals/{animal_id}/deceased",
        "/api/v1/animals/{animal_id}/weights",
        "/api/v1/species",
        "/api/v1/species/{species_id}/breeds",
        "/api/v1/search",
        "/api/v1/me",
        "/api/v1/tokens",
    ]:
        assert path in paths, path
    assert not any("{path" in p or "rest" in p for p in paths)
    assert {"BearerToken", "SessionCsrfAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_holds_no_data(receptionist, anonymous):
    ClientFactory(last_name="Zanzibar-Secret")
    assert b"Zanzibar" not in anonymous.get("/api/v1/openapi.json").content


def test_docs_page_is_served_with_local_assets_only(anonymous):
    response = anonymous.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_schema_component_names_are_unique_and_each_names_one_type():
    from vetpms.api import api
    from vetpms.openapi import UniqueComponentNames

    components = api.get_openapi_schema()["components"]["schemas"]
    # Every short name two types share is published qualified, never bare (where one would overwrite the other).
    assert {"Kind", "Status", "ClientRef", "AnimalRef"} <= UniqueComponentNames.ambiguous
    assert not UniqueComponentNames.ambiguous & set(components)
    assert components["InvoiceKind"]["enum"] == ["invoice", "credit_note"]
    assert set(components["PaymentKind"]["enum"]) >= {"payment", "refund"}
    invoice = components["InvoiceOut"]["properties"]
    assert invoice["kind"] == {"$ref": "#/components/schemas/InvoiceKind"}
    assert invoice["client"] == {"$ref": "#/components/schemas/InvoicingClientRef"}
    # The invoicing client reference requires only what the invoice, balance and payment answers send.
    required = set(components["InvoicingClientRef"].get("required", []))
    assert required <= set(components["InvoicingClientRef"]["properties"])
    assert (
        required != set(components["ClientsClientRef"].get("required", []))
        or components["InvoicingClientRef"] == components["ClientsClientRef"]
    )


def test_schema_publishes_the_date_bound():
    from vetpms.api import api

    schema = api.get_openapi_schema()
    payment_in = schema["components"]["schemas"]["PaymentIn"]["properties"]["received_on"]
    day = next(option for option in payment_in.get("anyOf", [payment_in]) if option.get("type") == "string")
    assert day["pattern"] == r"^(19\d\d|2\d\d\d)-\d\d-\d\d$"


def test_schema_documents_the_error_answers_where_they_occur():
    import json

    from vetpms.api import api

    paths = json.loads(json.dumps(api.get_openapi_schema()))["paths"]  # as published: status codes as strings
    add_line = paths["/api/v1/invoices/{invoice_id}/lines"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "409", "422"} <= set(add_line)
    assert add_line["409"]["content"]["application/json"]["schema"]["required"] == ["detail", "code"]
    listing = paths["/api/v1/clients"]["get"]["responses"]
    assert {"200", "401", "403", "422"} <= set(listing) and "409" not in listing and "404" not in listing
    for methods in paths.values():
        for operation in methods.values():
            if operation.get("security"):
                assert {"401", "403"} <= set(operation["responses"])
