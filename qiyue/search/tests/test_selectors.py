import datetime
import random
import re
from decimal import Decimal

import pytest

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.search import selectors
from qiyue.search.rebuild import reindex_all
from qiyue.search.selectors import search
from qiyue.search.tokenizer import is_cjk, normalize

from .corpus import WORDS, make_document, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(users):
    """~200 contracts, their customers and ~70 documents (some long enough to be chunked)."""
    rng = random.Random(20260301)
    owner = users["sales"]
    customers = [make_customer(owner, name=name) for name in
                 ("北京市飞鹭达科技有限公司", "上海云峤物流有限公司", "Wide Star Trading Ltd.")]
    contracts = Contract.objects.bulk_create([
        Contract(number=f"HT-T-{i:05d}", title=text_of(rng, 8)[:30], customer=rng.choice(customers), owner=owner,
                 team=owner.team, description=text_of(rng, rng.randint(20, 400)), our_entity=rng.choice(WORDS),
                 counterparty_signatory=rng.choice(["张伟", "李娜", "王京"]), tags=rng.choice(["", "重点,框架", "京津"]))
        for i in range(200)])
    documents = []
    for i in range(70):
        text = text_of(rng, rng.choice([300, 2000, 9000]))
        pages = sorted({0, *(rng.randrange(len(text)) for _ in range(3))})
        if i % 7 == 0:
            documents.append(make_document(owner=owner, customer=rng.choice(customers), text=text, pages=pages,
                                           title=f"客户资料{i}.pdf"))
        else:
            documents.append(make_document(owner=owner, contract=rng.choice(contracts), text=text, pages=pages,
                                           title=f"附件{i}.docx"))
    reindex_all()
    objects = {}
    for c in Contract.objects.select_related("customer"):
        objects[("contract", c.pk)] = [c.number, c.title, c.customer.name, c.our_entity, c.counterparty_signatory,
                                       c.tags, c.description]
    for customer in customers:
        objects[("customer", customer.pk)] = [customer.name, customer.credit_code or "", customer.tags,
                                              customer.address]
    for d in documents:
        objects[("document", d.pk)] = [d.title, d.current_version.text.text]
    return objects


def hits_of(user, q, **filters):
    result = search(user=user, q=q, filters=filters, limit=1000)
    assert not result.count_capped
    found = {(hit.kind, hit.object.pk) for hit in result.hits}
    assert result.count == len(found), q
    return found


def cjk_samples(objects, rng, n):
    texts = [field for fields in objects.values() for field in fields if field]
    samples = set()
    while len(samples) < n:
        text = rng.choice(texts)
        if len(text) < 3:
            continue
        start = rng.randrange(len(text) - 2)
        kw = text[start:start + rng.randint(2, 7)]
        if len(kw) >= 2 and all(is_cjk(ch) for ch in kw):
            samples.add(kw)
    return sorted(samples)


def test_chinese_recall_and_precision_equal_substring_search(corpus, users):
    rng = random.Random(7)
    queries = cjk_samples(corpus, rng, 150) + ["北京", "京市", "市政", "京东", "东方", "方面", "飞鹭达", "约金",
                                               "云峤星", "鹭星", "京上", "达云", "合同甲方", "不存在的词"]
    found_something = 0
    for kw in queries:
        expected = {key for key, fields in corpus.items() if any(kw in field for field in fields)}
        assert hits_of(users["admin"], kw) == expected, kw
        found_something += bool(expected)
    assert found_something >= 140


def test_names_inside_longer_words_and_across_word_boundaries(corpus, users):
    # 北京 inside 北京市 (the customer name) and 京市 across the word boundary of 北京|市政.
    for kw in ("北京", "京市", "飞鹭", "鹭达科"):
        expected = {key for key, fields in corpus.items() if any(kw in f for f in fields)}
        assert expected and hits_of(users["admin"], kw) == expected


def test_single_character_is_found_wherever_it_stands(corpus, users):
    for kw in ("京", "峤", "鹭", "违"):
        expected = {key for key, fields in corpus.items() if any(kw in f for f in fields)}
        assert hits_of(users["admin"], kw) == expected, kw


def words_of(text):
    return re.findall(r"[^\W_\u3400-\u9fff]+", normalize(text))


def test_english_words_and_numbers_match_whole_and_case_insensitively(corpus, users):
    for word in ("warranty", "WARRANTY", "Delivery", "iso9001", "full", "wide", "2026", "30", "usb", "ht"):
        expected = {key for key, fields in corpus.items() if any(normalize(word) in words_of(f) for f in fields)}
        assert hits_of(users["admin"], word) == expected, word
    # Not a prefix or a substring of a word.
    assert hits_of(users["admin"], "warrant") == set()


def test_words_are_anded(corpus, users):
    for q in ("北京 warranty", "违约金 2026 飞鹭达", "合同 SLA"):
        words = q.split()

        def matches(fields, words=words):
            return all(any((w in f) if is_cjk(w[0]) else (normalize(w) in words_of(f)) for f in fields)
                       for w in words)
        expected = {key for key, fields in corpus.items() if matches(fields)}
        assert hits_of(users["admin"], q) == expected, q


def test_quoted_phrases_keep_words_adjacent(corpus, users):
    pattern = re.compile(r"(?<![^\W_\u3400-\u9fff])force[^\w\u3400-\u9fff]+majeure(?![^\W_\u3400-\u9fff])")
    expected = {key for key, fields in corpus.items() if any(pattern.search(normalize(f)) for f in fields)}
    assert hits_of(users["admin"], '"force majeure"') == expected
    anded = {key for key, fields in corpus.items()
             if all(any(w in words_of(f) for f in fields) for w in ("force", "majeure"))}
    assert hits_of(users["admin"], "force majeure") == anded
    assert expected <= anded
    # A quoted Chinese phrase is the substring.
    assert hits_of(users["admin"], '"违约金"') == {k for k, fs in corpus.items() if any("违约金" in f for f in fs)}


def test_contract_number_matches_exactly_and_comes_first(corpus, users):
    contract = Contract.objects.get(number="HT-T-00042")
    result = search(user=users["admin"], q="HT-T-00042")
    assert result.hits[0].object == contract
    assert {(h.kind, h.object.pk) for h in result.hits} == {
        key for key, fields in corpus.items() if any("HT-T-00042" in f for f in fields)}
    assert search(user=users["admin"], q="ht-t-00042").hits[0].object == contract
    assert search(user=users["admin"], q="HT-T-0004").count == 0


def test_document_hits_carry_file_title_page_and_a_safe_snippet(users):
    owner = users["sales"]
    contract = make_contract(owner, title="厂房租赁合同")
    text = "第一页<b>内容</b>。" + "租赁" * 3 + "\n" + "第二页：押金条款 <script>x</script> 押金为三个月租金。"
    make_document(owner=owner, contract=contract, text=text, pages=[0, text.index("第二页")], title="租赁合同.pdf")
    reindex_all()
    hit = next(h for h in search(user=owner, q="押金条款").hits if h.kind == "document")
    assert hit.file == "租赁合同.pdf" and hit.page == 2
    assert "<mark>押金条款</mark>" in hit.snippet and "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert hit.url == f"/documents/{hit.object.pk}/"
    first = next(h for h in search(user=owner, q="内容").hits if h.kind == "document")
    assert first.page == 1 and "&lt;b&gt;<mark>内容</mark>&lt;/b&gt;" in first.snippet


def test_phrase_across_a_chunk_boundary_is_found_once(users):
    owner = users["sales"]
    contract = make_contract(owner)
    text = "甲" * 3995 + "飞鹭达星澜" + "乙" * 6000
    document = make_document(owner=owner, contract=contract, text=text)
    reindex_all()
    result = search(user=owner, q="飞鹭达星澜")
    assert [(h.kind, h.object.pk) for h in result.hits] == [("document", document.pk)] and result.count == 1
    assert search(user=owner, q="甲甲").count == 1 and search(user=owner, q="乙乙").count == 1


@pytest.fixture
def two_teams(users):
    a = make_contract(users["sales"], title="北京设备采购合同 甲队")
    b = make_contract(users["sales_b"], title="北京设备采购合同 乙队")
    doc_a = make_document(owner=users["sales"], contract=a, text="北京 保密条款 alpha")
    doc_b = make_document(owner=users["sales_b"], contract=b, text="北京 保密条款 beta")
    cust_doc_b = make_document(owner=users["sales_b"], customer=b.customer, text="北京 客户资料 保密")
    reindex_all()
    return {"a": a, "b": b, "doc_a": doc_a, "doc_b": doc_b, "cust_doc_b": cust_doc_b}


@pytest.mark.parametrize("role,sees", [
    ("admin", "ab"), ("legal", "ab"), ("finance", "ab"), ("auditor", "ab"),
    ("manager", "a"), ("sales", "a"), ("sales2", "a"), ("sales_b", "b"), ("manager_b", "b"),
])
def test_visibility_per_role(users, two_teams, role, sees):
    user = users[role]
    t = two_teams
    allowed = set()
    if "a" in sees:
        allowed |= {("contract", t["a"].pk), ("document", t["doc_a"].pk), ("customer", t["a"].customer_id)}
    if "b" in sees:
        allowed |= {("contract", t["b"].pk), ("document", t["doc_b"].pk), ("customer", t["b"].customer_id),
                    ("document", t["cust_doc_b"].pk)}
    for q in ("北京", "保密", "测试客户", "北京 保密", "京"):
        result = search(user=user, q=q, limit=100)
        found = {(h.kind, h.object.pk) for h in result.hits}
        assert found <= allowed, (role, q)
        assert result.count == len(found), (role, q)
    assert {(h.kind, h.object.pk) for h in search(user=user, q="北京", limit=100).hits} == {
        k for k in allowed if k[0] != "customer"}
    assert search(user=user, q="beta").count == ("b" in sees)
    assert search(user=user, q="alpha").count == ("a" in sees)


def test_inactive_users_and_unknown_roles_see_nothing(users, two_teams):
    user = users["admin"]
    user.is_active = False
    assert search(user=user, q="北京").count == 0
    stranger = users["sales"]
    stranger.role = "visitor"
    assert search(user=stranger, q="北京").count == 0


def test_no_snippet_from_an_invisible_customer_document(users, two_teams):
    result = search(user=users["sales"], q="客户资料")
    assert result.count == 0 and result.hits == []


def test_filters_combine_with_the_query(users):
    owner = users["sales"]
    c1 = make_contract(owner, title="设备维护合同", amount=Decimal("5000"), nature="service")
    c2 = make_contract(owner, title="设备采购合同", amount=Decimal("90000"), nature="purchase", customer=c1.customer)
    # Signing dates on drafts (only the sign transition sets one now): written to the rows directly.
    Contract.objects.filter(pk=c1.pk).update(signing_date=datetime.date(2025, 3, 1))
    Contract.objects.filter(pk=c2.pk).update(signing_date=datetime.date(2026, 3, 1))
    d2 = make_document(owner=owner, contract=c2, text="设备清单")
    reindex_all()

    def found(**filters):
        return {(h.kind, h.object.pk) for h in search(user=owner, q="设备", filters=filters).hits}

    assert found() == {("contract", c1.pk), ("contract", c2.pk), ("document", d2.pk)}
    assert found(nature=["service"]) == {("contract", c1.pk)}
    assert found(nature=["purchase", "service"], type=["contract"]) == {("contract", c1.pk), ("contract", c2.pk)}
    assert found(type=["document"]) == {("document", d2.pk)}
    assert found(status=["draft"]) == found() and found(status=["active"]) == set()
    assert found(amount_min=Decimal("10000")) == {("contract", c2.pk), ("document", d2.pk)}
    assert found(amount_max="6000") == {("contract", c1.pk)}
    assert found(signing_date_after=datetime.date(2026, 1, 1)) == {("contract", c2.pk), ("document", d2.pk)}
    assert found(signing_date_before=datetime.date(2025, 12, 31)) == {("contract", c1.pk)}
    assert found(customer=c1.customer) == found()
    assert found(customer=users["sales"].pk + 10_000) == set()
    assert found(owner=owner) == found() and found(owner=users["sales2"]) == set()
    assert found(team=owner.team) == found() and found(team=users["sales_b"].team) == set()


def test_count_is_capped_and_pages_are_newest_first(users, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    monkeypatch.setattr(selectors, "MAX_OFFSET", 5)
    owner = users["sales"]
    customer = make_customer(owner)
    contracts = [make_contract(owner, customer=customer, title=f"框架协议 {i}") for i in range(8)]
    reindex_all()
    result = search(user=owner, q="框架协议", limit=3)
    assert result.count == 5 and result.count_capped and not result.ranked
    assert result.count_label == "5+"
    assert [h.object for h in result.hits] == contracts[::-1][:3]
    assert [h.object for h in search(user=owner, q="框架协议", limit=3, offset=3).hits] == contracts[::-1][3:5]
    assert search(user=owner, q="框架协议", offset=5).hits == []
    small = search(user=owner, q="框架协议 3")
    assert small.count == 1 and not small.count_capped and small.ranked


def test_relevance_ranks_few_hits(users):
    owner = users["sales"]
    weak = make_contract(owner, title="租赁合同", description="厂房" + "其他条款" * 200)
    strong = make_contract(owner, title="厂房租赁合同 厂房")
    reindex_all()
    result = search(user=owner, q="厂房")
    assert result.ranked and [h.object for h in result.hits] == [strong, weak]


def test_empty_or_punctuation_query_finds_nothing(users):
    make_contract(users["sales"])
    reindex_all()
    assert search(user=users["admin"], q="").count == 0
    assert search(user=users["admin"], q=" ，。 ").hits == []
