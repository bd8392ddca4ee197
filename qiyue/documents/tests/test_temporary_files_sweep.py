"""Encrypted temporary files left by killed processes (issue 8): `qiyue storage check` lists them,
`--fix` removes them, and so do the worker's start-up sweep and the periodic job; a spool in use and
a young file are kept."""

import io
import os
import signal
import time

import pytest
from django.core.management import call_command

from qiyue.core.jobs import periodic_jobs
from qiyue.documents.jobs import SWEEP_EVERY, SWEEP_TEMPORARY_FILES
from qiyue.vault.spool import EncryptedSpoolFile
from qiyue.vault.tests.fixtures import storage_fixture, upload_tmp_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def aged(path, hours: float = 2):
    old = time.time() - hours * 3600
    os.utime(path, (old, old))
    return path


@pytest.fixture
def leftovers(upload_tmp):
    """A stale file (two hours old, nobody holds it), a young one, and an old one a live spool holds."""
    stale = upload_tmp / "qiyue-upload-killed.enc"
    stale.write_bytes(b"s" * 1000)
    aged(stale)
    young = upload_tmp / "qiyue-upload-recent.enc"
    young.write_bytes(b"r" * 10)
    live = EncryptedSpoolFile(dir=upload_tmp, prefix="qiyue-upload-")
    live.write(b"l" * 70000)
    [live_path] = set(upload_tmp.iterdir()) - {stale, young}
    aged(live_path)
    yield stale, young, live_path
    live.close()


def check(*args) -> str:
    out = io.StringIO()
    call_command("storage", "check", *args, stdout=out)
    return out.getvalue()


def test_storage_check_lists_and_fix_removes_only_stale_files(leftovers):
    stale, young, live = leftovers
    output = check()
    assert f"leftover temporary file  {stale.name}\n" in output
    assert "1 leftover temporary files (1000 bytes), 1 in use" in output
    assert stale.exists()
    output = check("--fix")
    assert f"leftover temporary file  {stale.name}  (deleted)" in output
    assert "1 leftover temporary files (1000 bytes) deleted, 1 in use" in output
    assert not stale.exists() and young.exists() and live.exists()
    # --min-age-minutes 0 reaches the young file too, never the live one.
    check("--fix", "--min-age-minutes", "0")
    assert not young.exists() and live.exists()


def test_the_periodic_job_sweeps(leftovers):
    stale, young, live = leftovers
    [job] = [j for j in periodic_jobs() if j.name == SWEEP_TEMPORARY_FILES]
    assert job.every == SWEEP_EVERY
    result = job.function()
    assert result.stale == [stale]
    assert not stale.exists() and young.exists() and live.exists()


@pytest.mark.django_db(transaction=True)  # the worker closes the database connection when it ends
def test_the_worker_sweeps_when_it_starts(leftovers):
    stale, young, live = leftovers
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    out = io.StringIO()
    try:
        call_command("worker", "--batch", stdout=out)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert "Start-up sweep: removed 1 stale encrypted temporary file(s) (1000 bytes), kept 1 in use." in out.getvalue()
    assert not stale.exists() and young.exists() and live.exists()
