"""The benchmark's process set-up, shared by its entry points (run.py, http_run.py, search.py): the data
directory (BENCH_DATA_DIR, or a new temporary one), the database (BENCH_DATABASE_URL, else SQLite in
the data directory, never the developer's DATABASE_URL), DEBUG off as served in production (no query
log, no debug templates), then Django."""

import os
import tempfile


def set_up() -> None:
    os.environ["QIYUE_DATA_DIR"] = os.environ.get("BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="qiyue-bench-")
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("QIYUE_DEBUG", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
