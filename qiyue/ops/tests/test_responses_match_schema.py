"""Real API responses validate against the OpenAPI schema the server publishes (the probe found an
unsigned contract's `signing_method: ""` outside its enum and the versions list answering a plain
list where the schema said paginated)."""

import copy
import json

import jsonschema
import pytest
from rest_framework.test import APIClient

from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.search.tests.corpus import make_document

pytestmark = pytest.mark.django_db


def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative, refs point into $defs."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if isinstance(node.get("$ref"), str):
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.pop("nullable", False):
        if "type" in node and not any(k in node for k in ("allOf", "oneOf", "anyOf", "$ref")):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def api(users):
    client = APIClient()
    client.force_authenticate(users["sales"])
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    defs = _json_schema(schema["components"]["schemas"])

    def check(path_template: str, url: str):
        response = client.get(url)
        assert response.status_code == 200, response.content
        content = schema["paths"][path_template]["get"]["responses"]["200"]["content"]["application/json"]
        wanted = {**_json_schema(copy.deepcopy(content["schema"])), "$defs": defs}
        jsonschema.validate(response.json(), wanted)
        return response.json()

    return check


def test_contract_responses_match_the_schema(api, users):
    draft = make_contract(users["sales"])
    signed = make_contract(users["sales"])
    for name, actor in (("submit", "sales"), ("approve", "legal"), ("sign", "sales")):
        signed = contract_transition(actor=users[actor], contract=signed, name=name, via_workflow=name == "approve", signing_method="wet_ink",
                                     signing_date=signed.effective_date)
    assert api("/api/v1/contracts/{id}/", f"/api/v1/contracts/{draft.pk}/")["signing_method"] == ""
    assert api("/api/v1/contracts/{id}/", f"/api/v1/contracts/{signed.pk}/")["signing_method"] == "wet_ink"
    assert api("/api/v1/contracts/", "/api/v1/contracts/")["count"] == 2


def test_document_versions_match_the_schema(api, users):
    contract = make_contract(users["sales"])
    document = make_document(owner=users["sales"], contract=contract, text="合同正文", title="正文.pdf")
    versions = api("/api/v1/documents/{id}/versions/", f"/api/v1/documents/{document.pk}/versions/")
    assert isinstance(versions, list) and len(versions) == 1


def test_the_check_finds_a_violation():
    schema = {"type": "object", "properties": {"m": {"oneOf": [{"$ref": "#/$defs/E"}]}}, "$defs": {"E": {"enum": ["a"]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"m": ""}, schema)
