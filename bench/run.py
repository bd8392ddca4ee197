"""Qiyue benchmark (`make bench`): pages, API and search on a generated data set, and text extraction.

    make bench                                             # 20,000 contracts, 4,000 documents, SQLite
    BENCH_CONTRACTS=1000000 BENCH_DOCUMENTS=200000 make bench
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench
    BENCH_DATA_DIR=/tmp/b BENCH_REUSE=1 make bench         # time an existing data set again
    BENCH_HTTP=0 make bench                                # in-process figures only

Builds the data set with bulk inserts in a throwaway database (or reuses one), warms it, then times
each request BENCH_REPEAT times in this one process and prints median and p95 in milliseconds. Then
(bench/http_run.py) checks every query's count against SQL LIKE and measures through HTTP against
`qiyue serve` with 1, 4 and 16 concurrent clients, cold and warm; exits non-zero when a count differs.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.environment import set_up  # noqa: E402

set_up()  # timed as served in production: DEBUG off

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.approval import ensure_approval_tasks, time_navigation_counts, time_submit  # noqa: E402
from bench.custom import custom_type, ensure_custom_values  # noqa: E402
from bench.dataset import bench_database, reuse_or_build  # noqa: E402
from bench.extraction import measure_text_pdf_throughput  # noqa: E402
from bench.http_run import bench_http  # noqa: E402
from bench.money_data import aging_counts, ensure_money, time_payment  # noqa: E402
from bench.reminders import time_feed, time_scan  # noqa: E402
from bench.search import bench_search  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "20000"))
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", str(CONTRACTS // 5)))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
WARMUP = 3


def timed(client, url):
    for _ in range(WARMUP):  # a warm database and process, as the issue asks: first requests load caches
        client.get(url)
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def facts_contract(customer) -> int:
    """The newest contract of the biggest customer: a contract page with the most supplements' neighbours."""
    from qiyue.contracts.models import Contract

    return Contract.objects.filter(customer=customer, deleted_at__isnull=True).order_by("-created_at").values_list(
        "pk", flat=True).first()


def in_approval_contract() -> int:
    """A contract of bench_legal's inbox (in approval, a countersign step open)."""
    from qiyue.workflow.models import ApprovalTask

    return ApprovalTask.objects.filter(assignee__username="bench_legal", status="open").values_list(
        "contract_id", flat=True).order_by("opened_at", "id").first()


def main():
    # No setup_test_environment(): it instruments every template render for the test client's
    # assertions, which a served page does not pay for.
    with bench_database():
        data = reuse_or_build(contracts=CONTRACTS, documents=DOCUMENTS)
        facts = data.facts
        print(f"Qiyue bench on {connection.vendor}: {data.contracts:,} contracts; contracts built in "
              f"{data.contracts_s:.0f} s, {data.documents:,} document texts in {data.documents_s:.0f} s, "
              f"reindex {data.reindex_s:.0f} s; {REPEAT} runs each, milliseconds")
        custom_field, custom_values, custom_s = ensure_custom_values()
        print(f"custom-field values: {custom_values:,} (every tenth contract), added in {custom_s:.1f} s")
        open_tasks, tasks_s = ensure_approval_tasks(target=max(1, data.contracts // 10))
        from qiyue.workflow.selectors import inbox_count
        print(f"open approval tasks: {open_tasks:,} (bench_legal holds {inbox_count(user=facts['legal']):,}+ "
              f"of them), added in {tasks_s:.1f} s")
        installments, payments, money_s = ensure_money(contracts=data.contracts)
        print(f"money: {installments:,} installments, {payments:,} payments, added in {money_s:.1f} s")
        if os.environ.get("BENCH_AGING") == "1":  # a scan of every installment: off unless asked for
            print("installments by state:", ", ".join(f"{k} {v:,}" for k, v in aging_counts().items()))
        manager, legal, finance = Client(), Client(), Client()
        manager.force_login(facts["manager"])
        legal.force_login(facts["legal"])
        finance.force_login(facts["finance"])
        customer = facts["biggest_customer"]
        cases = [
            ("contracts list, 3 filters (manager)", manager,
             "/contracts/?status=active&nature=sales&amount_min=10000&ordering=-created_at"),
            ("contracts list, 3 filters (legal)", legal,
             "/contracts/?status=active&nature=sales&amount_min=10000&ordering=-created_at"),
            ("contracts list, custom field = east (manager)", manager, f"/contracts/?cf{custom_field}=east"),
            ("contracts list, custom field = east (legal)", legal, f"/contracts/?cf{custom_field}=east"),
            ("contracts list, custom field + status (legal)", legal,
             f"/contracts/?cf{custom_field}=west&status=active"),
            # As the list's form makes it: the type chosen first, then its field.
            ("contracts list, type + custom field (manager)", manager,
             f"/contracts/?contract_type={custom_type(custom_field)}&cf{custom_field}=east"),
            ("contracts list totals, 3 filters (manager)", manager,
             "/contracts/totals/?status=active&nature=sales&amount_min=10000"),
            ("contracts list totals, no filter (manager)", manager, "/contracts/totals/"),
            ("contract page (legal)", legal, f"/contracts/{facts_contract(customer)}/"),
            ("approval inbox, open tasks (legal)", legal, "/workflow/inbox/"),
            ("approval inbox, decided (manager)", manager, "/workflow/inbox/?show=decided"),
            ("API approval tasks, open (legal)", legal, "/api/v1/approval-tasks/"),
            ("contract in approval, its page (legal)", legal, f"/contracts/{in_approval_contract()}/"),
            ("customer 360, biggest customer (legal)", legal, f"/customers/{customer.pk}/"),
            ("customer 360, its timeline tab (legal)", legal, f"/customers/{customer.pk}/timeline/"),
            ("dashboard (manager)", manager, "/"),
            ("dashboard (legal)", legal, "/"),
            ("dashboard (finance)", finance, "/"),
            # Money (issue 12): lists sorted by what is outstanding, filtered by overdue; receivables.
            ("contracts list, by outstanding (manager)", manager, "/contracts/?ordering=-outstanding"),
            ("contracts list, by outstanding (finance)", finance, "/contracts/?ordering=-outstanding"),
            ("contracts list, overdue (manager)", manager, "/contracts/?overdue=yes"),
            ("contracts list, overdue (finance)", finance, "/contracts/?overdue=yes"),
            ("contracts list, overdue > 90 days (finance)", finance, "/contracts/?overdue=over_90"),
            ("contracts list, overdue, by age (finance)", finance,
             "/contracts/?overdue=yes&ordering=unpaid_since"),
            ("receivables page (finance)", finance, "/finance/receivables/"),
            ("receivables, over 90 days (finance)", finance, "/finance/receivables/?bucket=over_90"),
            ("receivables, USD (finance)", finance, "/finance/receivables/?currency=USD"),
            ("receivables page (manager)", manager, "/finance/receivables/"),
            ("receivables, over 90 days (manager)", manager, "/finance/receivables/?bucket=over_90"),
            ("receivables, USD (manager)", manager, "/finance/receivables/?currency=USD"),
            ("contracts list, no filter (manager)", manager, "/contracts/"),
            ("search page, 合同 (manager)", manager, "/search/?q=%E5%90%88%E5%90%8C"),
            ("API contracts list, 2 filters (legal)", legal, "/api/v1/contracts/?status=active&nature=service"),
            # The fixed cost of any API request (session, user, middleware, one tiny query).
            ("API floor: one user record (legal)", legal, "/api/v1/users/?page_size=1"),
        ]
        print(f"{'page':45} {'median':>8} {'p95':>8}")
        for label, client, url in cases:
            median, p95 = timed(client, url)
            print(f"{label:45} {median:8.1f} {p95:8.1f}")
        median, p95 = time_navigation_counts(facts["legal"], REPEAT * 10)
        print(f"{'navigation bar counts, per page (legal)':45} {median:8.2f} {p95:8.2f}")
        median, p95, pages = time_submit(facts["sales"], REPEAT)
        print(f"{f'submit with a {pages}-page text (sales)':45} {median:8.1f} {p95:8.1f}")
        median, p95 = time_payment(facts["finance"], REPEAT)
        print(f"{'record a payment, one installment (finance)':45} {median:8.1f} {p95:8.1f}")
        median, p95, dates, size = time_feed(Client(), REPEAT)
        print(f"{f'calendar feed, {dates:,} dates ({size // 1024:,} kB)':45} {median:8.1f} {p95:8.1f}")
        scan = time_scan()
        print(f"reminder scan, first run of the day: {scan['first_s']:.2f} s ({scan['sent']:,} reminders, "
              f"{scan['expired']:,} contracts expired, {scan['renewed']:,} renewed); "
              f"second run: {scan['second_s']:.2f} s ({scan['second_sent']:,} reminders)")
        print()
        bench_search(Client(), users={"legal": facts["legal"], "mgr": facts["manager"]}, repeat=REPEAT)
        print()
        print(f"text PDF extraction: {measure_text_pdf_throughput():.0f} pages/s")
        if os.environ.get("BENCH_HTTP", "1") == "1":
            report = bench_http(facts, clients=[int(c) for c in os.environ.get("BENCH_HTTP_CLIENTS", "1,4,16").split(",")],
                                samples=int(os.environ.get("BENCH_HTTP_SAMPLES", "200")),
                                per_class=int(os.environ.get("BENCH_QUERIES", "20")),
                                drop_cache=os.environ.get("BENCH_DROP_CACHES", "1") == "1",
                                reindex=os.environ.get("BENCH_REINDEX", "1") == "1",
                                recall=os.environ.get("BENCH_RECALL", "1"))
            if report["recall_failures"]:
                sys.exit(f"{len(report['recall_failures'])} search counts differ from SQL LIKE (listed above)")
            if report.get("during_reindex", {}).get("wrong"):
                sys.exit("searches made during `qiyue reindex` counted otherwise than before it (listed above)")


if __name__ == "__main__":
    main()
