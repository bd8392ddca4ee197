"""The benchmark through HTTP (`qiyue serve`) and the recall check, on the benchmark data set.

Standalone (builds its own data set, like bench/run.py, which also calls `bench_http`):

    python bench/http_run.py
    BENCH_CONTRACTS=300 BENCH_DOCUMENTS=60 BENCH_HTTP_CLIENTS=4 BENCH_HTTP_SAMPLES=20 python bench/http_run.py

Settings (environment): BENCH_HTTP_CLIENTS (default "1,4,16"), BENCH_HTTP_SAMPLES (requests per class
and concurrency level, default 200), BENCH_QUERIES (distinct queries per class, default 20),
BENCH_DROP_CACHES (default 1: try to drop the OS page cache before the cold restart; skipped with a
message where not allowed),
BENCH_REINDEX (default 1: search while `qiyue reindex` rebuilds the index beside the server),
BENCH_RECALL (default 1: the recall check, its candidates found by `LIKE` on SQLite and by one scan of
the texts on PostgreSQL, see bench/recall.py; "like" or "scan" chooses; 0 skips it),
BENCH_JSON=path (write the figures as JSON). Exits non-zero when any recall count differs, or a
search made during the rebuild counts otherwise than before it.
"""

import json
import os
import sys
import urllib.parse
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.environment import set_up

    set_up()

from bench.generate import PASSWORD  # noqa: E402
from bench.httpbench import Server, cold_and_warm, get_json, measure, search_while_reindexing  # noqa: E402
from bench.queries import query_lists  # noqa: E402
from bench.recall import check_recall  # noqa: E402


def _path(base: str, params: dict) -> str:
    return base + "?" + urllib.parse.urlencode(params, doseq=True)


def page_paths(facts: dict, n: int) -> dict[str, list[str]]:
    """The main pages, each over distinct variants (filters, customers, list pages)."""
    from qiyue.contracts.models import Contract
    from qiyue.customers.models import Customer

    statuses = ["active", "completed", "expired", "signed", ""]
    natures = ["sales", "purchase", "service", ""]
    lists = [_path("/contracts/", {k: v for k, v in (("status", s), ("nature", t), ("page", p)) if v})
             for s in statuses for t in natures for p in ("", "2")][:n]
    from qiyue.core.permissions import visible

    # The manager's customers (the others answer 404), the biggest first when it is one of them.
    mine = visible(facts["manager"], Customer.objects.all())
    customers = list(mine.filter(pk__in=Contract.objects.values("customer_id")[:5000])
                     .order_by("?").values_list("pk", flat=True)[:n])
    if mine.filter(pk=facts["biggest_customer"].pk).exists() and facts["biggest_customer"].pk not in customers:
        customers.insert(0, facts["biggest_customer"].pk)
    contracts = list(visible(facts["manager"], Contract.objects.filter(deleted_at__isnull=True))
                     .filter(pk__in=Contract.objects.values("pk")[:20000]).order_by("?").values_list("pk", flat=True)[:n])
    totals = [path.replace("/contracts/", "/contracts/totals/", 1) for path in lists if "page=" not in path]
    return {"page: dashboard": ["/"],
            "page: contracts list": lists,
            "page: contracts list totals": totals,
            "page: contract page": [f"/contracts/{pk}/" for pk in contracts],
            "page: customer 360": [f"/customers/{pk}/" for pk in customers]}


def _during_reindex(server, cookie: str, lists, out) -> dict:
    """Search (one client, the first queries of every class) while `qiyue reindex` rebuilds the index
    beside the live one: latency, and every answer's count against the count before the rebuild."""
    paths = [_path("/api/v1/search/", q.params()) for qs in lists.values() for q in qs[:3]]
    expected = {}
    for path in paths:
        answer = get_json(server, cookie, path)
        expected[path] = (answer["count"], answer["count_capped"])
    result = search_while_reindexing(server, cookie, expected)
    out(f"\nSearch while `qiyue reindex` runs ({result['seconds']:.0f} s; {result['reindex']}): "
        f"{result['n']:,} searches by one client over {len(paths)} queries, p50 {result['p50']:.1f} / "
        f"p95 {result['p95']:.1f} / p99 {result['p99']:.1f} ms; counts that differed from before the rebuild: "
        f"{len(result['wrong'])}")
    out(f"A write every 0.2 s beside it: {result['writes']:,} writes, median {result['write_p50'] or 0:.1f} ms, "
        f"longest {result['write_max'] or 0:.0f} ms, failed {len(result['write_errors'])}")
    for path, before, during in result["wrong"][:10]:
        out(f"  INCOMPLETE {path}: before {before}, during {during}")
    return result


def bench_http(facts: dict, *, clients=(1, 4, 16), samples: int = 200, per_class: int = 20,
               drop_cache: bool = False, reindex: bool = True, recall: str = "1", out=print) -> dict:
    """Recall check, then latency and throughput per concurrency level, cold and warm, RSS."""
    lists = query_lists(per_class=per_class)
    server = Server()
    started = server.start()
    report = {"server_start_s": started, "levels": {}, "recall_failures": []}
    try:
        cookies = {"legal": server.log_in("bench_legal", PASSWORD),
                   "mgr": server.log_in(facts["manager"].username, PASSWORD)}
        users = {"legal": facts["legal"], "mgr": facts["manager"]}
        queries = [q for qs in lists.values() for q in qs if q.page == 1]

        def fetch(label, params):
            return get_json(server, cookies[label], _path("/api/v1/search/", params))

        report["recall"] = []
        if recall != "0":
            report["recall_failures"] = check_recall(users, queries, fetch, out=out, rows_out=report["recall"],
                                                     method=None if recall == "1" else recall)
        else:
            out("recall: not checked (BENCH_RECALL=0)")
        report["recall_checked"] = len(report["recall"])

        timed = list(lists)  # every class, the cross-chunk ones included (issue 9 defect 1 is fixed)
        paths = {f"API search: {name}": [_path("/api/v1/search/", q.params()) for q in lists[name]] for name in timed}
        paths["search page (HTML), all classes"] = [_path("/search/", q.params()) for qs in lists.values()
                                                   for q in qs]
        paths.update(page_paths(facts, per_class))
        out(f"\nThrough HTTP: qiyue serve ({server.threads} threads), manager's session, {samples} requests per "
            f"class and level over {sum(len(p) for p in paths.values())} distinct URLs; milliseconds")
        for level in clients:
            table = measure(server, cookies["mgr"], paths, clients=level, samples=samples)
            memory = server.memory()
            table["_all"]["memory_kb"] = memory
            report["levels"][level] = table
            total = table["_all"]
            out(f"\n{level} concurrent client(s): {total['requests']:,} requests in {total['seconds']:.1f} s = "
                f"{total['per_second']:.0f} requests/s; server RSS {memory.get('VmRSS', 0) / 1024:.0f} MB "
                f"(peak {memory.get('VmHWM', 0) / 1024:.0f} MB); errors {len(total['errors'])}")
            out(f"{'class':44} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8}")
            for name, row in table.items():
                if not name.startswith("_") and row["n"]:
                    out(f"{name:44.44} {row['n']:5} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f}")
            for name, path, status in total["errors"][:10]:
                out(f"  ERROR {status} [{name}] {path}")
        if reindex:
            report["during_reindex"] = _during_reindex(server, cookies["mgr"], lists, out)
        first = {name: lists[name][0] for name in timed}
        cold_paths = {"dashboard": "/", **{f"API search: {n}": _path("/api/v1/search/", q.params())
                                           for n, q in first.items()}}
        cold = cold_and_warm(server, facts["manager"].username, PASSWORD, cold_paths, drop_cache=drop_cache,
                             out=out)
        report["cold"] = cold
        out(f"\nCold (first request after a server restart{', page cache dropped' if cold['_dropped'] else ''}) "
            f"and warm (the same request again), milliseconds")
        for label, value in cold.items():
            if not label.startswith("_"):
                out(f"{label:44.44} {value[0]:8.1f} {value[1]:8.1f}")
    finally:
        server.stop()
    return report


def main():
    from django.db import connection

    from bench.dataset import bench_database, reuse_or_build

    contracts = int(os.environ.get("BENCH_CONTRACTS", "20000"))
    documents = int(os.environ.get("BENCH_DOCUMENTS", str(contracts // 5)))
    clients = [int(c) for c in os.environ.get("BENCH_HTTP_CLIENTS", "1,4,16").split(",")]
    with bench_database():
        data = reuse_or_build(contracts=contracts, documents=documents)
        print(f"Qiyue HTTP bench on {connection.vendor}: {data.contracts:,} contracts, {data.documents:,} documents")
        report = bench_http(data.facts, clients=clients, samples=int(os.environ.get("BENCH_HTTP_SAMPLES", "200")),
                            per_class=int(os.environ.get("BENCH_QUERIES", "20")),
                            drop_cache=os.environ.get("BENCH_DROP_CACHES", "1") == "1",
                            reindex=os.environ.get("BENCH_REINDEX", "1") == "1",
                            recall=os.environ.get("BENCH_RECALL", "1"))
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(report, default=str, ensure_ascii=False))
    sys.exit(1 if report["recall_failures"] or report.get("during_reindex", {}).get("wrong") else 0)


if __name__ == "__main__":
    main()
