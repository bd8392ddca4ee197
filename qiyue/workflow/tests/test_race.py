"""Two approvers of an any-of step deciding at the same moment, from two processes, on the database the
suite runs on (a file SQLite database, or a PostgreSQL database of its own): exactly one outcome."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def database(tmp_path):
    """The environment of a fresh, migrated database shared by the processes (not the test database)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QIYUE_TEST_DATABASE_NAME")}
    env.update(QIYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", QIYUE_DB_CONN_MAX_AGE="0")
    name = None
    if connection.vendor == "postgresql":
        import psycopg

        name = f"qiyue_race_{uuid.uuid4().hex[:10]}"
        admin = dict(connection.settings_dict)
        with psycopg.connect(host=admin["HOST"], port=admin["PORT"] or 5432, user=admin["USER"],
                             password=admin["PASSWORD"] or None, dbname="postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = (f"postgres://{admin['USER']}@{admin['HOST']}:{admin['PORT'] or 5432}/{name}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True,  # noqa: S603
                   timeout=300)
    yield env
    if name:
        import psycopg

        with psycopg.connect(host=admin["HOST"], port=admin["PORT"] or 5432, user=admin["USER"],
                             password=admin["PASSWORD"] or None, dbname="postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qiyue.workflow.tests.race", *map(str, args)],  # noqa: S603
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(env, contract_id) -> dict:
    script = ("import json; from qiyue.contracts.models import Contract; from qiyue.workflow.models import "
              "ApprovalTask; from qiyue.audit.models import AuditEvent; "
              f"c = Contract.objects.get(pk={contract_id}); "
              "print(json.dumps({'status': c.status, 'tasks': sorted(ApprovalTask.objects.filter(contract=c)"
              ".values_list('status', flat=True)), 'outcomes': AuditEvent.objects.filter(action__in=["
              "'approval.completed', 'approval.rejected']).count()}))")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_two_approvers_deciding_at_once_give_one_outcome(database, decisions):
    setup = _run(database, "setup")
    out, err = setup.communicate(timeout=180)
    assert setup.returncode == 0, err
    facts = json.loads(out.strip().splitlines()[-1])
    at = time.time() + 4  # both processes have started and loaded Django by then
    workers = [_run(database, "decide", facts["contract"], facts["tasks"][name], name, decision, facts["version"], at)
               for name, decision in zip(("race_legal", "race_legal2"), decisions, strict=True)]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.append(out.strip().splitlines()[-1])
    assert sorted(outcomes)[0] == "ok" and sorted(outcomes)[1] in ("stale_version", "task_closed"), outcomes
    state = _state(database, facts["contract"])
    assert state["outcomes"] == 1
    winner = decisions[outcomes.index("ok")]
    if winner == "approve":
        assert state["status"] == "approved" and state["tasks"] == ["approved", "cancelled"]
    else:
        assert state["status"] == "draft" and state["tasks"] == ["cancelled", "rejected"]

