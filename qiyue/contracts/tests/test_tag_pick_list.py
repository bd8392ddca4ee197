"""The tag filters of the contracts and customers lists are pick lists of the tags in use on the
records the user may see: remembered as records are saved (create, edit, reassignment), filled from
existing records by the migration, and never naming another team's tags."""

import pytest
from django.urls import reverse

from qiyue.contracts.models import Contract, ContractTag
from qiyue.contracts.services import contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.core import tags as tag_vocabulary
from qiyue.customers.models import Customer, CustomerTag
from qiyue.customers.services import customer_update
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _options(client, url, **params) -> list[str]:
    html = client.get(url, params).content.decode()
    select = html[html.index('name="tag"'):]
    select = select[:select.index("</select>")]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:]]


def test_contract_tag_filter_offers_the_tags_of_visible_contracts(client, users):
    make_contract(users["sales"], tags="重点,续签")
    make_contract(users["sales2"], tags="年度框架")  # a team mate's
    make_contract(users["sales_b"], tags="秘密项目")  # another team's
    client.force_login(users["manager"])  # team A's manager sees the team
    assert _options(client, reverse("contracts:list")) == ["", "年度框架", "续签", "重点"]
    client.force_login(users["legal"])  # sees every contract
    assert "秘密项目" in _options(client, reverse("contracts:list"))
    client.force_login(users["sales"])
    assert "秘密项目" not in _options(client, reverse("contracts:list"))
    # Picking one filters the list; a tag typed into the address is kept as the chosen option.
    page = client.get(reverse("contracts:list"), {"tag": "续签"})
    assert [c.tags for c in page.context["page"].object_list] == ["重点,续签"]
    assert "无此标签" in _options(client, reverse("contracts:list"), tag="无此标签")
    assert page.context["filter_form"]["tag"].value() == "续签"


def test_an_edit_and_a_reassignment_add_to_the_vocabulary(users):
    contract = make_contract(users["sales"], tags="甲")
    contract = contract_update(actor=users["sales"], contract=contract, data={"tags": "甲，乙"},
                               expected_version=contract.version)
    assert set(tag_vocabulary.names(ContractTag, user=users["sales"])) == {"甲", "乙"}
    # Handed to team B: team B's manager now sees its tags.
    assert "乙" not in tag_vocabulary.names(ContractTag, user=users["manager_b"])
    contract_update(actor=users["admin"], contract=contract,
                    data={"owner": users["sales_b"], "team": users["sales_b"].team}, expected_version=contract.version)
    assert set(tag_vocabulary.names(ContractTag, user=users["manager_b"])) == {"甲", "乙"}


def test_customer_tag_filter_is_a_pick_list_too(client, users):
    customer = make_customer(users["sales"], tags="华东,出口")
    make_customer(users["sales_b"], tags="他队标签")
    customer_update(actor=users["sales"], customer=customer, data={"tags": "华东,出口,重点"},
                    expected_version=customer.version)
    client.force_login(users["sales"])
    assert _options(client, reverse("customers:list")) == ["", "出口", "华东", "重点"]
    assert [c.name for c in client.get(reverse("customers:list"), {"tag": "重点"}).context["page"].object_list] == [
        customer.name]


def test_backfill_fills_the_vocabulary_from_existing_records(users):
    make_contract(users["sales"], tags="甲,乙")
    make_customer(users["sales_b"], tags="丙")
    ContractTag.objects.all().delete()
    CustomerTag.objects.all().delete()
    assert tag_vocabulary.backfill(ContractTag, Contract.objects.all()) == 2
    assert tag_vocabulary.backfill(ContractTag, Contract.objects.all()) == 0  # idempotent
    assert tag_vocabulary.backfill(CustomerTag, Customer.objects.all()) == 1
    assert set(tag_vocabulary.names(ContractTag, user=users["sales"])) == {"甲", "乙"}
    assert tag_vocabulary.names(CustomerTag, user=users["sales"]) == []
    assert tag_vocabulary.names(CustomerTag, user=users["sales_b"]) == ["丙"]
