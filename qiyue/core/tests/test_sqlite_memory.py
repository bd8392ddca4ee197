"""SQLite's per-connection memory: a private page cache and no memory map by default (every server
thread's map of the file counts in the server's resident memory again; docs/benchmarks.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
PRAGMAS = ("from django.db import connection; c = connection.cursor(); "
           "print(c.execute('PRAGMA mmap_size').fetchone()[0], c.execute('PRAGMA cache_size').fetchone()[0])")


def _pragmas(tmp_path, **env) -> tuple[int, int]:
    run_env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("QIYUE_SQLITE")},
               "QIYUE_DATA_DIR": str(tmp_path), **env}
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", PRAGMAS],  # noqa: S603
                            cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60, check=True)
    mmap, cache = result.stdout.splitlines()[-1].split()
    return int(mmap), int(cache)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's pragmas")
@pytest.mark.django_db
def test_no_memory_map_and_a_64_mb_cache_by_default(tmp_path):
    assert _pragmas(tmp_path) == (0, -64 * 1024)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's pragmas")
@pytest.mark.django_db
def test_the_map_and_the_cache_are_settings(tmp_path):
    assert _pragmas(tmp_path, QIYUE_SQLITE_MMAP_MB="256", QIYUE_SQLITE_CACHE_MB="16") == (256 * 1024 * 1024, -16 * 1024)
