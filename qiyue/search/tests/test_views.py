import pytest
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.search import selectors
from qiyue.search.rebuild import reindex_all

from .corpus import make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(users):
    a = make_contract(users["sales"], title="北京厂房租赁合同")
    b = make_contract(users["sales_b"], title="北京仓库租赁合同")
    doc = make_document(owner=users["sales"], contract=a, text="租金每月 Rent 条款", title="租赁合同.pdf")
    reindex_all()
    return {"a": a, "b": b, "doc": doc}


def test_search_page_shows_visible_hits_only(client, users, data):
    client.force_login(users["sales"])
    before = AuditEvent.objects.count()
    response = client.get(reverse("search:results"), {"q": "北京"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<mark>北京</mark>厂房" in body and "仓库" not in body
    assert 'data-testid="search-hit"' in body and "1 result" in body
    assert AuditEvent.objects.count() == before  # searching is not an access


def test_htmx_request_renders_only_the_results(client, users, data):
    client.force_login(users["sales"])
    response = client.get(reverse("search:results"), {"q": "租金"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="search-results"') and "<html" not in body
    assert "租赁合同.pdf" in body and "HX-Request" in response["Vary"]


def test_filters_and_capped_count_on_the_page(client, users, data, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 1)
    client.force_login(users["admin"])
    body = client.get(reverse("search:results"), {"q": "北京"}).content.decode()
    assert "1+ results" in body and 'data-testid="search-next"' in body
    body = client.get(reverse("search:results"), {"q": "北京", "type": "document"}).content.decode()
    assert "Nothing found." in body


def test_navbar_has_the_search_box(client, users):
    client.force_login(users["sales"])
    body = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="nav-search"' in body and reverse("search:results") in body


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("search:results"), {"q": "北京"})
    assert response.status_code == 302


@pytest.mark.parametrize("language, message", [
    ("en", "punctuation and symbols alone are not searched"),
    ("zh-hans", "仅有标点或符号无法搜索"),
])
def test_a_query_of_punctuation_only_says_why_nothing_is_searched(client, users, data, settings, language, message):
    settings.LANGUAGE_CODE = language
    client.force_login(users["sales"])
    for q in ("。，！", "!!!", "——"):
        body = client.get(reverse("search:results"), {"q": q}, headers={"Accept-Language": language}).content.decode()
        assert 'data-testid="search-no-words"' in body and message in body, (language, q)
        assert 'data-testid="search-count"' not in body
    body = client.get(reverse("search:results"), {"q": ""}).content.decode()
    assert 'data-testid="search-no-words"' not in body and 'data-testid="search-count"' not in body
