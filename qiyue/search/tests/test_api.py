import pytest
from rest_framework.test import APIClient

from qiyue.contracts.tests.factories import make_contract
from qiyue.search import selectors
from qiyue.search.rebuild import reindex_all

from .corpus import make_document

pytestmark = pytest.mark.django_db
URL = "/api/v1/search/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def data(users):
    a = make_contract(users["sales"], title="北京厂房租赁合同", nature="lease")
    b = make_contract(users["sales_b"], title="北京仓库租赁合同")
    doc = make_document(owner=users["sales"], contract=a, text="第一页\n租金每月结算", pages=[0, 4],
                        title="租赁合同.pdf")
    reindex_all()
    return {"a": a, "b": b, "doc": doc}


def test_results_shape_and_visibility(api, users, data):
    api.force_authenticate(users["sales"])
    body = api.get(URL, {"q": "租"}).json()
    assert body["count"] == 2 and body["count_capped"] is False and body["ranked"] is True
    by_type = {hit["type"]: hit for hit in body["results"]}
    assert set(by_type) == {"contract", "document"}
    assert by_type["contract"]["id"] == data["a"].pk
    assert by_type["contract"]["url"] == f"/contracts/{data['a'].pk}/"
    document = by_type["document"]
    assert document == {"type": "document", "id": data["doc"].pk, "title": f"{data['a'].number} 北京厂房租赁合同",
                        "url": f"/documents/{data['doc'].pk}/",
                        "snippet": "第一页\n<mark>租</mark>金每月结算", "page": 2, "file": "租赁合同.pdf"}


def test_filters_pagination_and_cap(api, users, data, monkeypatch):
    api.force_authenticate(users["admin"])
    assert api.get(URL, {"q": "北京", "nature": "lease"}).json()["count"] == 1
    assert api.get(URL, {"q": "北京", "type": ["contract", "document"]}).json()["count"] == 2
    monkeypatch.setattr(selectors, "COUNT_CAP", 1)
    body = api.get(URL, {"q": "北京", "page_size": 1}).json()
    assert body["count"] == 1 and body["count_capped"] is True and body["ranked"] is False
    assert body["results"][0]["id"] == data["b"].pk  # newest first
    assert body["next"] is None or "page=2" in body["next"]


def test_bad_input_gets_error_codes(api, users, data):
    api.force_authenticate(users["sales"])
    response = api.get(URL)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "q" in response.json()["fields"]
    response = api.get(URL, {"q": "北京", "status": "nonsense"})
    assert response.status_code == 400 and "status" in response.json()["fields"]
    response = api.get(URL, {"q": "北京", "page": "0"})
    assert response.status_code == 400
    response = api.get(URL, {"q": "北京", "customer": data["b"].customer_id})  # not visible to sales
    assert response.status_code == 400 and "customer" in response.json()["fields"]


def test_authentication_is_required(api):
    assert api.get(URL, {"q": "北京"}).status_code in (401, 403)


def test_schema_documents_the_search(api, users):
    api.force_authenticate(users["admin"])
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/search/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"q", "page", "page_size", "type", "status", "nature", "customer", "amount_min",
            "signing_date_after"} <= names
    assert "ordering" not in names


@pytest.mark.parametrize("q", ["。，！", "!!!", "——", " ？ ... ", "___"])
def test_a_query_of_punctuation_only_is_refused_with_its_code(api, users, data, q):
    api.force_authenticate(users["sales"])
    response = api.get(URL, {"q": q})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "query_has_no_words" and body["message"]
    assert body["fields"]["q"] and body["field_codes"] == {"q": ["query_has_no_words"]}


def test_an_empty_query_still_answers_no_results(api, users, data):
    api.force_authenticate(users["sales"])
    for q in ("", "   "):
        response = api.get(URL, {"q": q})
        assert response.status_code == 200 and response.json()["count"] == 0 and response.json()["results"] == []


def test_schema_documents_the_errors_and_the_nullable_page(api, users):
    api.force_authenticate(users["admin"])
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert "query_has_no_words" in schema["paths"]["/api/v1/search/"]["get"]["responses"]["400"]["description"]
    page = schema["components"]["schemas"]["SearchHitOutput"]["properties"]["page"]
    assert page["nullable"] is True and "DOCX" in page["description"]
