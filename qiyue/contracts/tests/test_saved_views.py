"""Saved views and the column chooser of the contracts list: each user's own, checked like the list's
own filters, with clear errors that change nothing."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from qiyue.contracts.columns import DEFAULT_COLUMNS
from qiyue.contracts.models import ListColumns, SavedView
from qiyue.contracts.saved_views import MAX_VIEWS
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db


def _heads(html: str) -> list[str]:
    return re.findall(r'data-col-head="(\w+)"', html)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_save_open_and_delete_a_view(client, users):
    make_contract(users["sales"], title="在履行的合同", amount=Decimal("10"))
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:view_save"), {
        "name": "我的草稿", "query": "status=draft&ordering=-amount&page=3", "columns": "title,amount"})
    view = SavedView.objects.get(user=users["sales"])
    assert (view.name, view.query, view.columns) == ("我的草稿", "status=draft&ordering=-amount", "title,amount")
    assert response.status_code == 302 and response["Location"] == (
        reverse("contracts:list") + "?status=draft&ordering=-amount&columns=title%2Camount")
    page = client.get(response["Location"])
    assert _heads(page.content.decode()) == ["title", "amount"]
    assert 'data-testid="saved-view"' in page.content.decode() and "我的草稿" in page.content.decode()
    # Saving again under the same name replaces it.
    client.post(reverse("contracts:view_save"), {"name": "我的草稿", "query": "status=active", "columns": ""})
    view.refresh_from_db()
    assert SavedView.objects.filter(user=users["sales"]).count() == 1 and view.query == "status=active"
    assert view.columns == ",".join(DEFAULT_COLUMNS)
    # Nobody else sees it, deletes it, or learns it exists.
    other = Client()
    other.force_login(users["sales2"])
    assert "我的草稿" not in other.get(reverse("contracts:list")).content.decode()
    assert other.post(reverse("contracts:view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(users["sales"])
    assert client.post(reverse("contracts:view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize(("data", "field", "text"), [
    ({"name": "", "query": "status=draft"}, "Name", "Give the view a name."),
    ({"name": "   ", "query": ""}, "Name", "Give the view a name."),
    ({"name": "名" * 81, "query": ""}, "Name", "The name is too long"),
    ({"name": "坏筛选", "query": "status=nonsense"}, "Filters", "These filters are not valid: status."),
    ({"name": "坏金额", "query": "amount_min=abc"}, "Filters", "These filters are not valid: amount_min."),
    ({"name": "他组客户", "query": "customer=999999"}, "Filters", "These filters are not valid: customer."),
    ({"name": "太长", "query": "q=" + "x" * 2100}, "Filters", "too long to save"),
])
def test_bad_views_are_refused_with_the_reason(client, users, data, field, text):
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:view_save"), data)
    assert response.status_code == 302
    messages = " ".join(_messages(response))
    assert f"{field}:" in messages and text in messages
    assert not SavedView.objects.exists()


def test_at_most_so_many_views(client, users):
    for n in range(MAX_VIEWS):
        SavedView.objects.create(user=users["sales"], name=f"视图 {n}")
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:view_save"), {"name": "再多一个", "query": ""})
    assert "delete one first" in " ".join(_messages(response))
    assert SavedView.objects.filter(user=users["sales"]).count() == MAX_VIEWS
    client.post(reverse("contracts:view_save"), {"name": "视图 3", "query": "status=draft"})  # a replacement is fine
    assert SavedView.objects.get(user=users["sales"], name="视图 3").query == "status=draft"


def test_choose_columns(client, users):
    make_contract(users["sales"], tags="重点,华东")
    client.force_login(users["sales"])
    assert _heads(client.get(reverse("contracts:list")).content.decode()) == list(DEFAULT_COLUMNS)
    response = client.post(reverse("contracts:columns"), {"columns": ["tags", "team", "title"], "query": "status=draft"})
    assert response["Location"] == reverse("contracts:list") + "?status=draft"
    html = client.get(reverse("contracts:list")).content.decode()
    assert _heads(html) == ["title", "team", "tags"]  # in the table's order
    assert "重点" in html
    # Another user's list is theirs.
    client.force_login(users["sales2"])
    assert _heads(client.get(reverse("contracts:list")).content.decode()) == list(DEFAULT_COLUMNS)
    client.force_login(users["sales"])
    for bad in ([], ["password"], ["title", "<script>"]):
        response = client.post(reverse("contracts:columns"), {"columns": bad})
        assert "Choose at least one of the listed columns." in " ".join(_messages(response))
    assert ListColumns.objects.get(user=users["sales"]).columns == "title,team,tags"
    # A view's columns in the address win for that page; unknown ones are ignored.
    assert _heads(client.get(reverse("contracts:list"), {"columns": "amount"}).content.decode()) == ["amount"]
    assert _heads(client.get(reverse("contracts:list"), {"columns": "nope"}).content.decode()) == [
        "title", "team", "tags"]
    # Columns and views are not filters: exports and totals ignore them.
    assert client.get(reverse("contracts:totals"), {"columns": "amount", "view": "3"}).status_code == 200
