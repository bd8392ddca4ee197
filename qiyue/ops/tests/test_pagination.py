"""Capped counts: lists count up to the cap, say "N+" above it, and page on past it with Next."""

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger
from rest_framework.test import APIClient

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.pagination import CappedPaginator
from qiyue.customers.tests.factories import make_customer


@pytest.fixture
def seven(users):
    customer = make_customer(users["sales"])
    return [make_contract(users["sales"], customer=customer, title=f"合同{i}") for i in range(7)]


def test_uncapped_lists_page_as_usual(seven):
    paginator = CappedPaginator(Contract.objects.order_by("pk"), 3, cap=10)
    assert paginator.count == 7 and not paginator.capped and paginator.shown_count == 7
    assert paginator.num_pages == 3
    assert [c.pk for c in paginator.page(3)] == [seven[6].pk]
    with pytest.raises(EmptyPage):
        paginator.page(4)


def test_capped_lists_page_on_past_the_cap(seven):
    paginator = CappedPaginator(Contract.objects.order_by("pk"), 2, cap=3)
    assert paginator.count == 4 and paginator.capped and paginator.shown_count == 3
    pages = [paginator.page(n) for n in (1, 2, 3, 4)]
    assert [[c.pk for c in p] for p in pages] == [[c.pk for c in seven[i:i + 2]] for i in (0, 2, 4, 6)]
    assert [p.has_next() for p in pages] == [True, True, True, False]
    assert pages[3].start_index() == 7 and pages[3].end_index() == 7
    with pytest.raises(EmptyPage):
        paginator.page(5)
    with pytest.raises(PageNotAnInteger):
        paginator.page("x")
    with pytest.raises(EmptyPage):
        paginator.page(0)
    # A page past the end falls back to the last counted page in the HTML lists.
    assert paginator.get_page(9).number == paginator.num_pages == 2


def test_paging_stops_at_max_offset(seven):
    paginator = CappedPaginator(Contract.objects.order_by("pk"), 2, cap=3)
    paginator.max_offset = 4
    assert paginator.page(2).number == 2
    with pytest.raises(EmptyPage):
        paginator.page(3)


def test_html_list_says_capped_and_pages_on_with_next(client, users, seven, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for i in range(18):  # 25 contracts: two pages of 20
        make_contract(users["sales"], customer=seven[0].customer, title=f"更多{i}")
    client.force_login(users["sales"])
    first = client.get("/contracts/?ordering=created_at").content.decode()
    assert "3+ results" in first and "Page 1<" in first and "Last" not in first
    assert 'data-testid="next-page"' in first and first.count('data-testid="contract-row"') == 20
    second = client.get("/contracts/?ordering=created_at&page=2").content.decode()
    assert "Page 2<" in second and 'data-testid="next-page"' not in second
    assert second.count('data-testid="contract-row"') == 5 and "更多17" in second


def test_api_count_stops_at_the_cap_and_next_goes_on(users, seven, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    api = APIClient()
    api.force_authenticate(users["sales"])
    body = api.get("/api/v1/contracts/?page_size=2&ordering=created_at").json()
    assert body["count"] == 3 and body["count_capped"] is True
    numbers, url = [], "/api/v1/contracts/?page_size=2&ordering=created_at"
    while url:
        body = api.get(url).json()
        numbers += [row["number"] for row in body["results"]]
        url = body["next"]
    assert numbers == [c.number for c in seven]
    assert api.get("/api/v1/contracts/?page_size=2&page=5").status_code == 404


def test_team_lists_page_by_visibility_part_without_gaps_or_repeats(users):
    """A sales user sees the team's contracts and their own in another team: counted and paged as two
    parts, the pages hold exactly what one OR query would, in the same order."""
    from django.db.models import Q

    from qiyue.contracts.selectors import contract_list
    from qiyue.core.permissions import visible_parts

    sales, admin = users["sales"], users["admin"]
    customer_a = make_customer(sales)
    customer_b = make_customer(users["sales_b"])
    made = []
    for i in range(9):  # the team's, owned by a colleague or by the user
        owner = users["sales2"] if i % 3 else sales
        made.append(make_contract(owner, customer=customer_a, title=f"团队{i}"))
        if i % 4 == 0:  # the user's own contract filed under the other team, by an admin
            made.append(make_contract(sales, customer=customer_b, title=f"别队{i}", actor=admin,
                                                team=users["sales_b"].team))
    make_contract(users["sales_b"], customer=customer_b, title="看不见")
    qs = contract_list(user=sales, filters={})
    parts = visible_parts(sales, qs)
    assert len(parts) == 2 and {c.title for c in parts[1]} == {"别队0", "别队4", "别队8"}
    assert all(" OR " not in str(part.query) for part in parts)  # each part states the rule alone
    expected = list(Contract.objects.filter(Q(owner=sales) | Q(team=sales.team)).order_by("-created_at", "-pk"))
    assert {c.pk for c in expected} == {c.pk for c in made}
    for cap in (3, 100):  # capped (pages past the cap) and counted
        paginator = CappedPaginator(qs, 4, cap=cap, parts=parts)
        assert paginator.count == min(len(expected), cap + 1)
        shown, number = [], 1
        while True:
            page = paginator.page(number)
            shown += list(page)
            if not page.has_next():
                break
            number += 1
        assert [c.pk for c in shown] == [c.pk for c in expected]
    # Past parts_depth the page comes from the one OR query: same rows.
    deep = CappedPaginator(qs, 4, cap=3, parts=parts)
    deep.parts_depth = 0
    assert [c.pk for c in deep.page(2)] == [c.pk for c in expected[4:8]]
    # A colleague with nothing in other teams: one part, the team's rows, the same list as the OR.
    colleague = users["sales2"]
    qs2 = contract_list(user=colleague, filters={})
    parts2 = visible_parts(colleague, qs2)
    assert len(parts2) == 1
    expected2 = list(Contract.objects.filter(Q(owner=colleague) | Q(team=colleague.team)).order_by("-created_at", "-pk"))
    paginator = CappedPaginator(qs2, 50, parts=parts2)
    assert paginator.count == len(expected2) and [c.pk for c in paginator.page(1)] == [c.pk for c in expected2]
