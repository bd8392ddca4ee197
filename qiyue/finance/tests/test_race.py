"""Two payments on one contract at the same moment, from two processes, on the database the suite runs
on (a file SQLite database, or a PostgreSQL database of its own): an installment is never
over-allocated, and one Idempotency-Key records one payment."""

import json
import subprocess
import sys
import time

import pytest

from qiyue.workflow.tests.test_race import ROOT, database  # noqa: F401  (the shared fresh database)


def _run(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qiyue.finance.tests.race", *map(str, args)],  # noqa: S603
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(env, contract_id) -> dict:
    script = ("import json; from qiyue.finance.models import Installment, Payment; "
              f"i = Installment.objects.get(contract_id={contract_id}); "
              f"print(json.dumps({{'received': str(i.received), 'payments': Payment.objects.filter("
              f"contract_id={contract_id}).count()}}))")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _setup(database) -> dict:  # noqa: F811
    setup = _run(database, "setup")
    out, err = setup.communicate(timeout=180)
    assert setup.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("same_key", [False, True], ids=["four payments", "one idempotency key"])
def test_four_processes_paying_one_installment_never_over_allocate(database, same_key):  # noqa: F811
    facts = _setup(database)
    at = time.time() + 5  # every process has started and loaded Django by then
    users = [facts["users"][0]] * 4 if same_key else facts["users"] * 2
    workers = [_run(database, "pay", facts["contract"], user, "key-1" if same_key else "-", at) for user in users]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.append(out.strip().splitlines()[-1])
    assert sorted(outcomes) == (["ok"] + ["replay"] * 3 if same_key else ["ok"] + ["overpayment"] * 3), outcomes
    assert _state(database, facts["contract"]) == {"received": "10000.00", "payments": 1}


def test_twenty_threads_paying_one_installment_never_over_allocate(database):  # noqa: F811
    facts = _setup(database)
    worker = _run(database, "threads", facts["contract"], facts["users"][0], 20, time.time() + 4)
    out, err = worker.communicate(timeout=180)
    assert worker.returncode == 0, err
    outcomes = json.loads(out.strip().splitlines()[-1])
    assert sorted(outcomes) == ["ok"] + ["overpayment"] * 19, outcomes
    assert _state(database, facts["contract"]) == {"received": "10000.00", "payments": 1}
