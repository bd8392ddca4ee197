"""A kind registered from outside the search app is indexed, rebuilt, filtered and shown like the
built-in ones, without a line of search/ knowing it: here contacts, keyed like their customer."""

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.urls import reverse

from qiyue.core.permissions import visible
from qiyue.core.search_kinds import (
    Follow,
    Found,
    IndexRow,
    SearchKind,
    kind_choices,
    register_search_kind,
    reindex_later,
    search_kind,
    unregister_search_kind,
)
from qiyue.customers.models import Contact
from qiyue.customers.services import contact_create, customer_update
from qiyue.customers.tests.factories import make_customer
from qiyue.search.filters import SearchFilter
from qiyue.search.models import SearchEntry
from qiyue.search.rebuild import reindex_all
from qiyue.search.selectors import search

pytestmark = pytest.mark.django_db


def contact_row(contact) -> IndexRow:
    customer = contact.customer
    return IndexRow(kind="contact", object_id=contact.pk, customer_id=customer.pk, owner_id=customer.owner_id,
                    team_id=customer.team_id, title=contact.name, text=f"{contact.name} · {contact.title}")


def contact_rows(ids: list[int]) -> list[IndexRow]:
    return [contact_row(c) for c in Contact.objects.select_for_update(of=("self",)).select_related("customer")
            .filter(pk__in=ids)]


def contact_stream(batch: int) -> Iterator:
    for contact in Contact.objects.select_related("customer").order_by("pk"):
        yield contact.created_at, [contact_row(contact)]


def contacts_found(user, ids) -> dict[int, Found]:
    contacts = visible(user, Contact.objects.filter(pk__in=ids), via="customer__")
    return {c.pk: Found(c, c.name, reverse("customers:detail", args=[c.customer_id])) for c in contacts}


@pytest.fixture
def contact_kind():
    kind = register_search_kind(SearchKind(
        name="contact", label="Contact person", rows=contact_rows, stream=contact_stream, found=contacts_found,
        follows={"customer": Follow(columns=("owner_id", "team_id"),
                                    ids=lambda ids: Contact.objects.filter(customer_id__in=ids)
                                    .values_list("pk", flat=True))},
        badge="info"))
    yield kind
    unregister_search_kind("contact")


def add_contact(user, customer, name: str) -> Contact:
    with transaction.atomic():
        contact = contact_create(actor=user, customer=customer, data={"name": name, "title": "采购经理"})
        reindex_later("contact", contact.pk)  # what the app's service would do
    return contact


def test_a_registered_kind_is_indexed_after_commit_and_found(users, contact_kind, django_capture_on_commit_callbacks):
    customer = make_customer(users["sales"], name="云峤科技有限公司")
    with django_capture_on_commit_callbacks(execute=True):
        contact = add_contact(users["sales"], customer, "欧阳明远")
    result = search(user=users["sales"], q="欧阳明远")
    assert [(h.kind, h.object.pk) for h in result.hits] == [("contact", contact.pk)]
    hit = result.hits[0]
    assert (hit.title, hit.url, hit.label, hit.badge) == ("欧阳明远", f"/customers/{customer.pk}/", "Contact person",
                                                          "info")
    assert search(user=users["sales_b"], q="欧阳明远").hits == []  # keyed like its customer
    # The type filter knows the kind, and narrows to it.
    assert ("contact", "Contact person") in kind_choices()
    assert search(user=users["sales"], q="采购经理", filters={"type": ["contact"]}).count == 1
    assert search(user=users["sales"], q="采购经理", filters={"type": ["contract"]}).count == 0
    form = SearchFilter({"q": "采购经理", "type": ["contact"]}, user=users["sales"]).form
    assert form.is_valid(), form.errors


def test_a_registered_kind_follows_the_changes_it_names(users, contact_kind, django_capture_on_commit_callbacks):
    customer = make_customer(users["sales"], name="星澜新材料有限公司")
    with django_capture_on_commit_callbacks(execute=True):
        contact = add_contact(users["sales"], customer, "司马青云")
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=users["admin"], customer=customer, expected_version=customer.version,
                        data={"owner": users["sales_b"], "team": users["sales_b"].team})
    assert search(user=users["sales"], q="司马青云").hits == []
    assert [h.object.pk for h in search(user=users["sales_b"], q="司马青云").hits] == [contact.pk]


def test_a_registered_kind_is_rebuilt_and_shown_on_the_page_and_the_api(client, users, contact_kind):
    customer = make_customer(users["sales"], name="飞鹭达物流有限公司")
    contact = contact_create(actor=users["sales"], customer=customer, data={"name": "诸葛长风"})
    assert not SearchEntry.objects.filter(kind="contact").exists()  # nothing queued it
    reindex_all()
    assert SearchEntry.objects.filter(kind="contact", object_id=contact.pk).count() == 1
    client.force_login(users["sales"])
    body = client.get(reverse("search:results"), {"q": "诸葛长风"}).content.decode()
    assert 'data-kind="contact"' in body and '<span class="badge text-bg-info me-1">Contact person</span>' in body
    assert 'value="contact"' in body  # a checkbox of the type filter
    response = client.get("/api/v1/search/", {"q": "诸葛长风", "type": "contact"})
    assert response.status_code == 200, response.content
    assert [(r["type"], r["id"]) for r in response.json()["results"]] == [("contact", contact.pk)]


def test_an_unregistered_kind_is_neither_indexed_nor_shown(users, contact_kind, django_capture_on_commit_callbacks):
    customer = make_customer(users["sales"], name="明德精密机械有限公司")
    with django_capture_on_commit_callbacks(execute=True):
        add_contact(users["sales"], customer, "上官飞燕")
    unregister_search_kind("contact")
    assert search_kind("contact") is None
    assert search(user=users["sales"], q="上官飞燕").hits == []  # its stale entries are not hits
