"""The benchmark's database and data set, shared by bench/run.py and bench/search.py: a throwaway
PostgreSQL test database (or the migrated one in BENCH_DATA_DIR), built or, with BENCH_REUSE=1,
reused as it is."""

import contextlib
import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection


@contextlib.contextmanager
def bench_database():
    """Migrate the database (PostgreSQL: a throwaway test database unless BENCH_REUSE) for the
    length of the block; the test client may use any host name."""
    settings.ALLOWED_HOSTS = ["*"]
    test_db = None
    if connection.vendor == "postgresql" and not os.environ.get("BENCH_REUSE"):
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0)
    try:
        yield
    finally:
        if test_db:
            connection.creation.destroy_test_db(test_db, verbosity=0)


@dataclass
class DataSet:
    facts: dict  # manager, sales, legal, finance, biggest_customer
    contracts: int
    documents: int
    contracts_s: float = 0.0
    documents_s: float = 0.0
    reindex_s: float = 0.0


def existing_facts() -> dict:
    from bench.money_data import finance_user
    from qiyue.accounts.models import User
    from qiyue.customers.models import Customer

    manager = User.objects.filter(role="manager").order_by("pk").first()
    return {"manager": manager,
            "sales": User.objects.filter(role="sales", team_id=manager.team_id).order_by("pk").first(),
            "legal": User.objects.get(username="bench_legal"),
            "finance": finance_user(),
            "biggest_customer": Customer.objects.order_by("pk").first()}


def reuse_or_build(*, contracts: int, documents: int) -> DataSet:
    """The data set: the one already there (BENCH_REUSE=1, no build, no reindex), or a new one of
    `contracts` contracts and `documents` document texts, with the time each step took."""
    from bench.generate import generate
    from bench.money_data import finance_user
    from bench.search_data import build_search_data
    from qiyue.contracts.models import Contract
    from qiyue.documents.models import DocumentText

    if os.environ.get("BENCH_REUSE") and Contract.objects.exists():
        return DataSet(existing_facts(), Contract.objects.count(), DocumentText.objects.count())
    start = time.perf_counter()
    facts = generate(contracts=contracts, seed=7)
    facts["finance"] = finance_user()
    built = time.perf_counter() - start
    timings = build_search_data(documents=documents)
    return DataSet(facts, Contract.objects.count(), documents, built, timings["documents_s"], timings["reindex_s"])
