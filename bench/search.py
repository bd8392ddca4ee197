"""Search benchmark: the HTTP API, the same query as raw SQL on the index, and the `icontains`
way most Django CRMs search, for each query class.

Standalone (builds its own data set in a throwaway database, like bench/run.py):

    python bench/search.py                                 # 20,000 contracts, 4,000 documents, SQLite
    BENCH_CONTRACTS=1000000 BENCH_DOCUMENTS=200000 python bench/search.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/search.py

From bench/run.py, after `generate(...)`:

    from bench.search import bench_search
    from bench.search_data import build_search_data
    build_search_data(documents=N)          # document texts + `reindex`
    bench_search(client, users={"legal": legal, "sales": manager}, repeat=REPEAT)
"""

import os
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    ROOT = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(ROOT))
    from bench.environment import set_up

    set_up()  # timed as served: no query log

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402

ICONTAINS_REPEAT = int(os.environ.get("BENCH_ICONTAINS_REPEAT", "3"))


def query_classes() -> list[tuple[str, str]]:
    from qiyue.contracts.models import Contract

    number = Contract.objects.order_by("pk").values_list("number", flat=True)[Contract.objects.count() // 2]
    return [
        ("rare term", "玄鸟智联"),
        ("common 2-char word", "合同"),
        ("4-char term", "不可抗力"),
        ("company name", "明德精密机械"),
        ("contract number", number),
        ("English word", "invoice"),
        ("two words", "北京 违约金"),
    ]


def _timed(function, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def raw_sql(user, q: str):
    """The search's own SQL without Django's request, ORM, serializer and snippets: the capped count,
    the exact contract-number lookup, the first page of entry rows with their text, and the rows of
    the objects they name, read through the same visibility rule (what `search()` asks the
    database for one API call)."""
    from qiyue.contracts.models import Contract
    from qiyue.core.roles import SEE_ALL_ROLES
    from qiyue.customers.models import Customer
    from qiyue.documents.models import Document
    from qiyue.search.selectors import COUNT_CAP, _Query, filter_clauses, query_phrases, visibility_clause

    phrases = query_phrases(q)
    clauses, ranges = filter_clauses({})
    visibility = visibility_clause(user)
    if visibility is not None:
        clauses.insert(0, visibility)
    query = _Query(phrases, clauses, ranges)
    tables = {name: model._meta.db_table for name, model in
              (("contract", Contract), ("customer", Customer), ("document", Document))}
    scope, scope_params = "", []
    if user.role not in SEE_ALL_ROLES:
        scope, scope_params = " AND (owner_id = %s OR team_id = %s)", [user.pk, user.team_id or 0]
    looks_like_number = " " not in q and any(ch.isdigit() for ch in q)

    def run():
        count = query.count(COUNT_CAP + 1)
        with connection.cursor() as cursor:
            if looks_like_number:
                cursor.execute(f"SELECT id FROM {tables['contract']} WHERE number IN (%s, %s) "
                               f"AND deleted_at IS NULL{scope} LIMIT 1", [q, q.upper(), *scope_params])
                cursor.fetchall()
            rows = query.first_objects(ranked=count <= COUNT_CAP, wanted=20)
            ids = [r[0] for r in rows] or [0]
            cursor.execute(f"SELECT id, text FROM search_searchentry WHERE id IN ({','.join(map(str, ids))})")
            cursor.fetchall()
            wanted = {kind: {object_id for _e, k, object_id in rows if k == kind} for kind in tables}
            if wanted["document"]:
                cursor.execute(f"SELECT id, title, contract_id, customer_id, current_version_id FROM "
                               f"{tables['document']} WHERE id IN ({','.join(map(str, wanted['document']))}) "
                               f"AND deleted_at IS NULL")
                for _id, _title, contract_id, customer_id, _version in cursor.fetchall():
                    wanted["contract" if contract_id else "customer"].add(contract_id or customer_id)
            for kind, columns in (("contract", "id, number, title"), ("customer", "id, name")):
                if wanted[kind]:
                    extra = " AND deleted_at IS NULL" if kind == "contract" else ""
                    cursor.execute(f"SELECT {columns} FROM {tables[kind]} WHERE id IN "
                                   f"({','.join(map(str, wanted[kind]))}){extra}{scope}", scope_params)
                    cursor.fetchall()
        return count
    return run


def icontains(q: str):
    """The usual way: OR of icontains over the fields and the document text (each word ANDed)."""
    from qiyue.contracts.models import Contract
    from qiyue.documents.models import DocumentText

    def run():
        contract_q = Q()
        text_q = Q()
        for word in q.split():
            contract_q &= (Q(number__icontains=word) | Q(title__icontains=word) | Q(customer__name__icontains=word)
                           | Q(our_entity__icontains=word) | Q(counterparty_signatory__icontains=word)
                           | Q(tags__icontains=word) | Q(description__icontains=word))
            text_q &= Q(text__icontains=word)
        contracts = Contract.objects.filter(contract_q)
        texts = DocumentText.objects.filter(text_q)
        total = contracts.count() + texts.count()
        list(contracts.order_by("-id")[:20])
        list(texts.order_by("-version_id").values_list("version_id", "text")[:20])
        return total
    return run


def bench_search(client, *, users: dict, repeat: int = 30, out=print) -> list[dict]:
    """Time every query class for each named user (API, raw SQL, icontains) and print a table.
    `client` is a django.test.Client; `users` maps a label to a user."""
    rows = []
    out(f"{'search':34} {'user':6} {'hits':>6} {'API med':>8} {'API p95':>8} {'SQL med':>8} {'SQL p95':>8} "
        f"{'API/SQL':>7} {'icontains':>10} {'speedup':>8}")
    for label, q in query_classes():
        for who, user in users.items():
            client.force_login(user)
            url = "/api/v1/search/?" + __import__("urllib.parse").parse.urlencode({"q": q})
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            body = response.json()
            hits = f"{body['count']:,}{'+' if body['count_capped'] else ''}"
            api = _timed(lambda url=url: client.get(url), repeat)
            sql = _timed(raw_sql(user, q), repeat)
            slow = _timed(icontains(q), ICONTAINS_REPEAT)[0] if who == next(iter(users)) else None
            row = {"query": label, "q": q, "user": who, "hits": hits, "api_median": api[0], "api_p95": api[1],
                   "sql_median": sql[0], "sql_p95": sql[1], "icontains_median": slow}
            rows.append(row)
            slow_s = f"{slow:10.1f}" if slow is not None else f"{'':10}"
            speedup = f"{slow / api[0]:7.0f}x" if slow is not None else f"{'':8}"
            out(f"{label + ' (' + q + ')':34.34} {who:6} {hits:>6} {api[0]:8.1f} {api[1]:8.1f} {sql[0]:8.1f} "
                f"{sql[1]:8.1f} {api[0] / max(sql[0], 0.01):7.1f} {slow_s} {speedup}")
    return rows


def main():
    from django.test import Client

    from bench.dataset import bench_database, reuse_or_build

    contracts = int(os.environ.get("BENCH_CONTRACTS", "20000"))
    documents = int(os.environ.get("BENCH_DOCUMENTS", str(contracts // 5)))
    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    with bench_database():
        data = reuse_or_build(contracts=contracts, documents=documents)
        print(f"Qiyue search bench: {data.contracts:,} contracts, {data.documents:,} documents on "
              f"{connection.vendor}; contracts built in {data.contracts_s:.0f} s, documents in "
              f"{data.documents_s:.0f} s, reindex {data.reindex_s:.0f} s; {repeat} runs each (ms)")
        bench_search(Client(), users={"legal": data.facts["legal"], "mgr": data.facts["manager"]}, repeat=repeat)


if __name__ == "__main__":
    main()
