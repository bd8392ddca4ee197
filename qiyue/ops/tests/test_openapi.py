"""The OpenAPI 3 document covers every endpoint and validates without warnings; the docs page
loads only this server's assets (the CSP forbids inline scripts and CDNs)."""

import json
import re

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.shortcuts import resolve_url
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from qiyue.accounts.tests.factories import make_user
from qiyue.contracts.transitions import TRANSITIONS

EXPECTED = {
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{id}/": {"get", "put", "patch"},
    "/api/v1/contacts/": {"get", "post"},
    "/api/v1/contacts/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/communications/": {"get", "post"},
    "/api/v1/communications/{id}/": {"get"},
    "/api/v1/contracts/": {"get", "post"},
    "/api/v1/contracts/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/contracts/{id}/legal-hold/": {"post"},
    "/api/v1/contracts/{id}/renew/": {"post"},
    "/api/v1/archive/facets/": {"get"},
    "/api/v1/users/": {"get"},
    "/api/v1/users/{id}/": {"get"},
    "/api/v1/audit-events/": {"get"},
    "/api/v1/audit-events/{id}/": {"get"},
    **{f"/api/v1/contracts/{{id}}/{name}/": {"post"} for name, t in TRANSITIONS.items() if not t.workflow},
    "/api/v1/contracts/{id}/amendments/": {"get", "post"},
    "/api/v1/contracts/{id}/versions/": {"get"},
    "/api/v1/contracts/{id}/versions/compare/": {"get"},
    "/api/v1/amendments/{id}/": {"get", "patch"},
    "/api/v1/amendments/{id}/submit/": {"post"},
    "/api/v1/amendments/{id}/sign/": {"post"},
    "/api/v1/amendments/{id}/cancel/": {"post"},
    "/api/v1/contracts/{id}/money/": {"get"},
    "/api/v1/contracts/{id}/payment-plan/": {"put"},
    "/api/v1/contracts/{id}/payments/": {"get", "post"},
    "/api/v1/contracts/{id}/obligations/": {"get", "post"},
    "/api/v1/payments/": {"get"},
    "/api/v1/payments/{id}/": {"get"},
    "/api/v1/payments/{id}/reverse/": {"post"},
    "/api/v1/obligations/{id}/": {"get", "patch"},
    "/api/v1/obligations/{id}/complete/": {"post"},
    "/api/v1/obligations/{id}/waive/": {"post"},
    "/api/v1/obligations/{id}/reopen/": {"post"},
    "/api/v1/contracts/{id}/invoices/": {"get", "post"},
    "/api/v1/invoices/": {"get"},
    "/api/v1/invoices/{id}/": {"get"},
    "/api/v1/invoices/{id}/issue/": {"post"},
    "/api/v1/invoices/{id}/withdraw/": {"post"},
    "/api/v1/invoices/{id}/void/": {"post"},
    "/api/v1/invoices/{id}/red-letter/": {"post"},
    "/api/v1/invoices/import/": {"post"},
    "/api/v1/contracts/{id}/issues/": {"get", "post"},
    "/api/v1/issues/{id}/": {"get", "patch"},
    "/api/v1/issues/{id}/resolve/": {"post"},
    "/api/v1/issues/{id}/reopen/": {"post"},
    "/api/v1/receivables/": {"get"},
    "/api/v1/receivables/summary/": {"get"},
}


@pytest.fixture
def reader(db):
    """A signed-in client: the schema and docs are not public by default (QIYUE_PUBLIC_API_DOCS)."""
    client = APIClient()
    client.force_login(make_user("auditor", username="schema_reader"))
    return client


@pytest.fixture
def schema(reader):
    response = reader.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_schema_has_every_endpoint(schema):
    for path, methods in EXPECTED.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) - {"parameters"} == methods, path


def test_transition_operations_document_their_input(schema):
    components = schema["components"]["schemas"]

    def request_schema(name):
        ref = schema["paths"][f"/api/v1/contracts/{{id}}/{name}/"]["post"]["requestBody"]["content"][
            "application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    assert set(request_schema("sign")["required"]) == {"signing_method", "signing_date"}
    for name in ("terminate", "cancel"):
        assert "reason" in request_schema(name)["properties"]
    assert "version" in request_schema("submit")["properties"]
    ok = schema["paths"]["/api/v1/contracts/{id}/submit/"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/ContractOutput")
    output = components["ContractOutput"]["properties"]
    assert output["tags"]["type"] == "array" and output["available_transitions"]["type"] == "array"
    assert output["amount"]["type"] == "string"


def test_schema_yaml_download(reader):
    response = reader.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "Qiyue API"


def test_generation_has_no_warnings(tmp_path):
    # Same as `manage.py spectacular --validate --fail-on-warn`: raises on any warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]


def test_docs_page_uses_only_local_assets(reader):
    client = reader
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith("/"), url  # no CDN, no other host
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script would be blocked by CSP"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for url in urls:
        asset = client.get(url.replace("&amp;", "&"))
        assert asset.status_code == 200, url
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert body, url
    script = next(url for url in urls if "script" in url)
    assert "javascript" in client.get(script.replace("&amp;", "&"))["Content-Type"]


# Authorization matrix of the schema and the docs page: every role (session or token) reads them,
# an anonymous visitor (or a bad token, or a deactivated user) gets 401 not_authenticated, unless the
# deployment publishes them with QIYUE_PUBLIC_API_DOCS.
SCHEMA_URLS = ("/api/schema/?format=json", "/api/schema/")
DOC_URLS = (*SCHEMA_URLS, "/api/docs/")
ROLES = ("admin", "manager", "sales", "sales_b", "legal", "finance", "auditor")


@pytest.mark.parametrize("url", DOC_URLS)
@pytest.mark.parametrize("role", ROLES)
def test_docs_need_a_session(users, role, url):
    client = APIClient()
    client.force_login(users[role])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", DOC_URLS)
@pytest.mark.parametrize("role", ROLES)
def test_docs_accept_a_token(users, role, url):
    from qiyue.accounts.services import token_issue

    token = token_issue(actor=users[role], user=users[role])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(url).status_code == 200


def _body(response) -> dict:
    # The schema answers in YAML unless ?format=json; its errors too, in the project's error shape.
    return yaml.safe_load(response.content)


@pytest.mark.parametrize("url", SCHEMA_URLS)
def test_schema_refuses_anonymous(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert _body(response)["code"] == "not_authenticated"
    assert "paths" not in _body(response)


@pytest.mark.parametrize("url", SCHEMA_URLS)
def test_schema_refuses_bad_token_and_inactive_user(users, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert _body(client.get(url))["code"] == "not_authenticated"
    gone = users["sales2"]
    gone.is_active = False
    gone.save()
    client = APIClient()
    client.force_login(gone)
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("credentials", [{}, {"HTTP_AUTHORIZATION": "Token " + "0" * 40},
                                         {"HTTP_AUTHORIZATION": "Token"}])
def test_docs_page_sends_anonymous_to_log_in(db, credentials):
    client = APIClient()
    client.credentials(**credentials)
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)) and "next=/api/docs/" in response["Location"]
    assert "swagger" not in response.content.decode().lower()


@pytest.mark.parametrize("url", DOC_URLS)
def test_public_docs_setting_publishes_them(db, settings, url):
    settings.QIYUE_PUBLIC_API_DOCS = True
    assert APIClient().get(url).status_code == 200


def test_public_docs_setting_does_not_open_the_api(db, settings):
    settings.QIYUE_PUBLIC_API_DOCS = True
    assert APIClient().get("/api/v1/contracts/").status_code == 401


OPERATIONS = ("get", "post", "put", "patch", "delete")


def test_every_operation_is_described_for_integrators_in_english(schema):
    """A summary and a description each, written for integrators: never a base class's docstring
    explaining the code (drf-spectacular inherits them), never a label in the server's start-up
    language."""
    from qiyue.core.api import ServiceViewMixin

    internal = " ".join(ServiceViewMixin.__doc__.split())[:60]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("description"), where
            assert not re.search(r"[\u4e00-\u9fff]", operation["summary"] + operation["description"]), where
            assert internal not in " ".join(operation["description"].split()), where
            assert "streaming size limit" not in operation["description"], where


def test_docs_api_md_lists_every_endpoint(schema):
    from pathlib import Path

    text = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text()
    missing = [path for path in schema["paths"] if f"`{path.removeprefix('/api/v1/')}`" not in text]
    assert not missing, missing
