"""The scan from several processes at once, and killed mid-run, on the database the suite runs on (a
file SQLite database, or a PostgreSQL database of its own): each reminder goes out exactly once."""

import json
import subprocess
import sys
import time

from qiyue.workflow.tests.test_race import ROOT, database  # noqa: F401  (the shared fresh database)


def _run(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qiyue.reminders.tests.race", *map(str, args)],  # noqa: S603
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _done(process, timeout=180) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out.strip().splitlines()[-1] if out.strip() else ""


def test_three_scans_at_once_send_each_reminder_once(database):  # noqa: F811
    _done(_run(database, "setup"))
    at = time.time() + 5  # every process has started and loaded Django by then
    outcomes = [json.loads(_done(p)) for p in [_run(database, "scan", at) for _ in range(3)]]
    assert sum(o["expiry-90"] for o in outcomes) == 5
    # Five contracts, each to its owner (the 90-day rule tells nobody else).
    assert json.loads(_done(_run(database, "state"))) == {
        "notifications": 5, "numbers": 5, "sent": 5, "last_scanned_on": "2026-12-01"}


def test_a_scan_killed_mid_run_is_finished_by_the_next_without_repeats(database):  # noqa: F811
    _done(_run(database, "setup"))
    killed = _run(database, "killed")
    killed.communicate(timeout=180)
    assert killed.returncode == -9
    after_kill = json.loads(_done(_run(database, "state")))
    assert after_kill["notifications"] == 2 and after_kill["sent"] == 2  # one batch of two
    assert after_kill["last_scanned_on"] == "2026-11-30"  # the window was not finished
    _done(_run(database, "scan", 0))
    assert json.loads(_done(_run(database, "state"))) == {
        "notifications": 5, "numbers": 5, "sent": 5, "last_scanned_on": "2026-12-01"}
