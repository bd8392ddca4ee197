"""The benchmark's recall check and HTTP harness run, at small scale: bench/http_run.py builds its own
data set (a few hundred contracts, long documents among them) in a throwaway database of the
database under test, starts `qiyue serve` on it, checks every query's search count against SQL LIKE
and measures a few requests through HTTP with one concurrency level."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_") and k != "QIYUE_DATA_DIR"}
    env.update(BENCH_DATA_DIR=str(tmp / "data"), BENCH_JSON=str(tmp / "report.json"), BENCH_CONTRACTS="300",
               BENCH_DOCUMENTS="60", BENCH_LONG_SHARE="0.5", BENCH_HTTP_CLIENTS="4", BENCH_HTTP_SAMPLES="8",
               BENCH_QUERIES="4", BENCH_DROP_CACHES="0", QIYUE_DEBUG="0")
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # Its own throwaway database beside the suite's test database.
        env["BENCH_DATABASE_URL"] = os.environ["DATABASE_URL"]
        env["QIYUE_TEST_DATABASE_NAME"] = f"{os.environ.get('QIYUE_TEST_DATABASE_NAME') or 'qiyue_test'}_bench"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "http_run.py")], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=240)
    report_file = tmp / "report.json"
    assert report_file.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_file.read_text())
    report["exit_code"], report["stdout"] = result.returncode, result.stdout
    return report


def test_recall_matches_like_for_every_class(bench_report):
    """Every query's count equals LIKE's, words in different chunks of one document (AND) and phrases
    over a chunk border included; the run exits 0 only then."""
    assert bench_report["recall_checked"] >= 60
    assert bench_report["recall_failures"] == []
    assert bench_report["exit_code"] == 0, bench_report["stdout"][-3000:]


def test_the_data_holds_words_pages_apart_and_rare_terms(bench_report):
    """The LIKE side sees what the data planted: marker pairs at both ends of long documents, rare
    terms in fewer than ten documents, the older versions' word nowhere current."""
    by_class = {}
    for row in bench_report["recall"]:
        if row["user"] == "legal":
            by_class.setdefault(row["class"], []).append(row)
    assert sum(row["like"] for row in by_class["cross-chunk AND"]) > 0
    assert all(row["like"] > 0 for row in by_class["phrase over a chunk border"])
    assert all(row["like"] < 10 for row in by_class["rare (< 10 hits)"])
    assert any(row["like"] == 0 and row["search"] == 0 for row in by_class["rare (< 10 hits)"])
    assert any(row["like"] > 0 for row in by_class["rare (< 10 hits)"])


def test_a_recall_mismatch_fails_the_run_and_is_listed(bench_report):
    for failure in bench_report["recall_failures"]:
        assert f"q={failure['q']!r}" in bench_report["stdout"]
    assert (bench_report["exit_code"] != 0) == bool(bench_report["recall_failures"])


def test_http_harness_measures_every_class_through_the_server(bench_report):
    level = bench_report["levels"]["4"]
    assert level["_all"]["errors"] == []
    assert level["_all"]["per_second"] > 0
    assert level["_all"]["memory_kb"]["VmRSS"] > 10_000  # a real server process's resident set
    classes = [name for name in level if not name.startswith("_")]
    for name in ("API search: single character", "API search: filtered (status/nature)", "API search: rare (< 10 hits)",
                 "API search: frequent", "API search: phrase (quoted)", "API search: English",
                 "API search: contract number", "API search: deep page (50)", "API search: mixed",
                 "search page (HTML), all classes", "page: dashboard", "page: contracts list",
                 "page: customer 360"):
        assert name in classes
        assert level[name]["n"] == 8 and 0 < level[name]["p50"] <= level[name]["p99"]
    assert "dashboard" in bench_report["cold"]


def test_search_while_reindexing_is_measured_and_complete(bench_report):
    """`qiyue reindex` runs beside the server while a client searches: answers are timed, and every
    count equals the count before the rebuild (the run exits non-zero otherwise)."""
    during = bench_report["during_reindex"]
    assert during["returncode"] == 0 and "Search index rebuilt" in during["reindex"]
    assert during["n"] > 0 and 0 < during["p50"] <= during["p99"]
    assert during["wrong"] == []
    assert "Search while `qiyue reindex` runs" in bench_report["stdout"]
