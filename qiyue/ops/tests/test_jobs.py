"""Periodic jobs: apps register them, every worker runs the due ones, and a job runs once per period
and never twice at once, however many workers there are (a compare-and-set on its row)."""

import datetime
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from qiyue.core.jobs import PeriodicJob, periodic_jobs, register_periodic_job, unregister_periodic_job
from qiyue.documents.extraction import extraction_recover_stale
from qiyue.documents.jobs import RECOVER_STALE_EXTRACTIONS
from qiyue.ops.jobs import run_due_jobs
from qiyue.ops.models import PeriodicJobRun

ROOT = Path(__file__).resolve().parents[3]
MINUTE = datetime.timedelta(minutes=1)


def test_apps_register_their_jobs():
    job = next(j for j in periodic_jobs() if j.name == RECOVER_STALE_EXTRACTIONS)
    assert job.function is extraction_recover_stale and job.every == 5 * MINUTE
    with pytest.raises(ValueError):
        register_periodic_job("test.never", print, every=datetime.timedelta(0))


@pytest.mark.django_db
def test_registered_jobs_run_from_the_registry():
    runs = []
    register_periodic_job("test.registered", lambda: runs.append(1), every=5 * MINUTE)
    try:
        assert "test.registered" in run_due_jobs()
        assert "test.registered" not in run_due_jobs()
    finally:
        unregister_periodic_job("test.registered")
    assert runs == [1]


@pytest.mark.django_db
def test_a_job_runs_once_per_period_whatever_the_number_of_workers():
    runs = []
    job = PeriodicJob("test.count", lambda: runs.append(1), every=5 * MINUTE)
    start = timezone.now()
    assert run_due_jobs([job], now=start) == ["test.count"]
    assert run_due_jobs([job], now=start) == []  # a second worker at the same moment
    assert run_due_jobs([job], now=start + 4 * MINUTE) == []
    assert run_due_jobs([job], now=start + 5 * MINUTE) == ["test.count"]
    assert run_due_jobs([job], now=start + 5 * MINUTE) == []
    assert len(runs) == 2
    row = PeriodicJobRun.objects.get(name="test.count")
    assert row.last_started_at == start + 5 * MINUTE and row.last_finished_at is not None
    assert row.running_until is None and row.last_error == ""


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_recorded_and_the_others_still_run(caplog):
    def fail():
        raise RuntimeError("the mail server is down")

    runs = []
    jobs = [PeriodicJob("test.fail", fail, every=MINUTE), PeriodicJob("test.ok", lambda: runs.append(1), every=MINUTE)]
    with caplog.at_level(logging.ERROR, logger="qiyue.ops.jobs"):
        assert run_due_jobs(jobs) == ["test.fail", "test.ok"]
    assert runs == [1]
    assert "periodic job test.fail failed" in caplog.text and "the mail server is down" in caplog.text
    failed = PeriodicJobRun.objects.get(name="test.fail")
    assert "RuntimeError: the mail server is down" in failed.last_error and failed.running_until is None
    # It runs again next period, and a success clears the error.
    jobs[0] = PeriodicJob("test.fail", lambda: None, every=MINUTE)
    assert run_due_jobs(jobs, now=timezone.now() + MINUTE) == ["test.fail", "test.ok"]
    assert PeriodicJobRun.objects.get(name="test.fail").last_error == ""


@pytest.mark.django_db
def test_a_running_job_is_not_started_again_until_its_run_is_lost():
    start = timezone.now()
    meanwhile = []

    def slow():
        # Another worker looks while this run is still under way, after the period has passed.
        meanwhile.append(run_due_jobs([job], now=start + 10 * MINUTE))

    job = PeriodicJob("test.slow", slow, every=5 * MINUTE, timeout=30 * MINUTE)
    assert run_due_jobs([job], now=start) == ["test.slow"]
    assert meanwhile == [[]]
    # A worker that died during a run holds the job until the run's timeout.
    PeriodicJobRun.objects.filter(name="test.slow").update(last_started_at=start, running_until=start + 30 * MINUTE)
    runs = []
    job = PeriodicJob("test.slow", lambda: runs.append(1), every=5 * MINUTE, timeout=30 * MINUTE)
    assert run_due_jobs([job], now=start + 29 * MINUTE) == []
    assert run_due_jobs([job], now=start + 31 * MINUTE) == ["test.slow"] and runs == [1]


def _worker(env, *args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "qiyue.ops.tests.periodic_worker", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_a_job_one_at_a_time(tmp_path):
    """Two processes run the worker's job runner at once against one database (this PostgreSQL test
    database, or a SQLite file): a job that takes longer than its period never runs twice at once,
    and a job that always fails does not stop either of them."""
    env = {**os.environ, "QIYUE_DATA_DIR": str(tmp_path), "QIYUE_DB_CONN_MAX_AGE": "0"}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
        env["DATABASE_URL"] = f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    else:
        database = tmp_path / "jobs.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{database}"
        migrate = _worker(env, "--migrate")
        assert migrate.wait(timeout=120) == 0, migrate.stderr.read()
    out = tmp_path / "runs.txt"
    workers = [_worker(env, str(out), "3") for _ in range(2)]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    runs = sorted((float(start), float(end)) for _pid, start, end in (line.split() for line in out.read_text().splitlines()))
    assert len(runs) >= 3
    for (_start, end), (next_start, _end) in zip(runs, runs[1:], strict=False):
        assert end <= next_start, "two workers ran the job at once"
    assert "periodic job test.fail failed" in "".join(errors)
    if connection.vendor == "postgresql":
        failed = PeriodicJobRun.objects.get(name="test.fail").last_error
    else:
        with sqlite3.connect(database) as db:
            failed = db.execute("SELECT last_error FROM ops_periodicjobrun WHERE name = 'test.fail'").fetchone()[0]
    assert "RuntimeError: this job always fails" in failed
