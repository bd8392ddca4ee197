"""The sweep of encrypted spool files that killed processes left behind (issue 8): a file nobody
holds and not written for the minimum age goes; a live spool's file, a young file and any other
file stay."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qiyue.vault.spool import CHUNK, EncryptedSpoolFile, spool_sweep

BASE_DIR = Path(__file__).resolve().parents[3]
HOUR = datetime.timedelta(hours=1)

# A process that spools an upload's worth of bytes, says where, and waits to be killed.
SPOOL_AND_WAIT = """
import sys, time
from qiyue.vault.spool import EncryptedSpoolFile
spool = EncryptedSpoolFile(dir=sys.argv[1], prefix="qiyue-upload-")
spool.write(b"x" * (3 * 65536))
print(spool._raw.name, flush=True)
time.sleep(600)
"""


def age(path: Path, seconds: float = 2 * 3600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def spool_of_a_killed_process(directory: Path) -> Path:
    process = subprocess.Popen([sys.executable, "-c", SPOOL_AND_WAIT, str(directory)], cwd=BASE_DIR,
                               stdout=subprocess.PIPE, text=True)
    try:
        path = Path(process.stdout.readline().strip())
        assert path.parent == directory and path.exists()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()
    assert path.exists()  # kill -9: nothing removed it
    return path


def test_the_file_of_a_killed_process_is_removed_once_old_enough(tmp_path):
    left = spool_of_a_killed_process(tmp_path)
    # Written just now: within the minimum age it is left alone.
    assert spool_sweep(directory=tmp_path, older_than=HOUR).stale == []
    assert left.exists()
    age(left)
    result = spool_sweep(directory=tmp_path, older_than=HOUR)
    assert result.stale == [left] and result.stale_bytes == 3 * (CHUNK + 16) and result.in_use == []
    assert not left.exists()


def test_a_live_spool_is_kept_however_old(tmp_path):
    with EncryptedSpoolFile(dir=tmp_path, prefix="qiyue-upload-") as live:
        live.write(b"y" * (2 * CHUNK))
        [path] = tmp_path.iterdir()
        age(path)
        result = spool_sweep(directory=tmp_path, older_than=HOUR)
        assert result.stale == [] and result.in_use == [path]
        assert path.exists()
        live.seek(0)
        assert live.read() == b"y" * (2 * CHUNK)  # the sweep did not disturb it
    assert list(tmp_path.iterdir()) == []  # closed: removed by the spool itself


def test_only_old_unheld_spool_files_go(tmp_path):
    stale = tmp_path / "qiyue-upload-stale.enc"
    fresh = tmp_path / "qiyue-upload-fresh.enc"
    other = tmp_path / "notes.enc"
    unsuffixed = tmp_path / "qiyue-upload-other.txt"
    for path in (stale, fresh, other, unsuffixed):
        path.write_bytes(b"z" * 10)
    for path in (stale, other, unsuffixed):
        age(path)
    (tmp_path / "qiyue-dir.enc").mkdir()
    age(tmp_path / "qiyue-dir.enc")
    (tmp_path / "qiyue-link.enc").symlink_to(other)

    listed = spool_sweep(directory=tmp_path, older_than=HOUR, remove=False)
    assert listed.stale == [stale] and listed.stale_bytes == 10 and not listed.removed
    assert stale.exists()
    assert "found 1 stale" in str(listed)

    removed = spool_sweep(directory=tmp_path, older_than=HOUR)
    assert removed.stale == [stale] and "removed 1 stale" in str(removed)
    assert not stale.exists()
    assert fresh.exists() and other.exists() and unsuffixed.exists()
    assert (tmp_path / "qiyue-dir.enc").is_dir() and (tmp_path / "qiyue-link.enc").is_symlink()


def test_a_missing_directory_is_nothing_to_sweep(tmp_path):
    result = spool_sweep(directory=tmp_path / "absent", older_than=HOUR)
    assert result.stale == [] and result.in_use == []


def test_a_spool_prefix_must_be_one_the_sweep_finds(tmp_path):
    with pytest.raises(ValueError):
        EncryptedSpoolFile(dir=tmp_path, prefix="upload-")
    assert list(tmp_path.iterdir()) == []
