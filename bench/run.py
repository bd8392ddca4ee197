"""Qiyue benchmark: page and API latency on a generated data set.

    make bench                      # 20,000 contracts on SQLite
    BENCH_CONTRACTS=200000 make bench
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench

Builds the data set with bulk inserts in a throwaway database, warms it, then times each request
REPEAT times in this one process and prints median and p95 in milliseconds.
"""

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["QIYUE_DATA_DIR"] = os.environ.get("BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="qiyue-bench-")
os.environ.pop("DATABASE_URL", None)
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.generate import generate  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "20000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))


def timed(client, url, **headers):
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    test_db = None
    if connection.vendor == "postgresql":
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0)
    try:
        start = time.perf_counter()
        facts = generate(contracts=CONTRACTS, seed=7)
        build = time.perf_counter() - start
        client = Client()
        client.force_login(facts["manager"])
        api = Client()
        api.force_login(facts["legal"])
        customer = facts["biggest_customer"]
        cases = [
            ("contracts list, 3 filters (manager)",
             "/contracts/?status=active&nature=sales&amount_min=10000&ordering=-created_at"),
            ("customer 360, biggest customer (legal)", f"/customers/{customer.pk}/"),
            ("dashboard (manager)", "/"),
            ("API contracts list, 2 filters (legal)", "/api/v1/contracts/?status=active&nature=service"),
        ]
        print(f"Qiyue bench: {CONTRACTS:,} contracts on {connection.vendor}; data built in {build:.1f} s; "
              f"{REPEAT} runs each")
        print(f"{'request':45} {'median ms':>10} {'p95 ms':>10}")
        for label, url in cases:
            who = api if "legal" in label else client
            median, p95 = timed(who, url)
            print(f"{label:45} {median:10.1f} {p95:10.1f}")
    finally:
        if test_db:
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    random.seed(7)
    main()
