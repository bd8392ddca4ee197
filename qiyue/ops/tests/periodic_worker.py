"""A worker process for test_jobs.py: `python -m qiyue.ops.tests.periodic_worker OUT SECONDS` runs the
periodic job runner of `qiyue worker` over two test jobs for SECONDS, against the database named by
DATABASE_URL: `record` (every 0.1 s, takes 0.3 s: longer than its period) appends "pid start end" to
OUT, and `fail` always raises. `--migrate` instead creates the jobs table alone (in a fresh SQLite file)."""

import datetime
import os
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if sys.argv[1] == "--migrate":
        from django.db import connection

        from qiyue.ops.models import PeriodicJobRun

        with connection.schema_editor() as editor:
            editor.create_model(PeriodicJobRun)
        return
    from qiyue.core.jobs import PeriodicJob
    from qiyue.ops.jobs import PeriodicJobRunner

    out, seconds = sys.argv[1], float(sys.argv[2])

    def record():
        start = time.time()
        time.sleep(0.3)
        with open(out, "a") as handle:
            handle.write(f"{os.getpid()} {start} {time.time()}\n")

    def fail():
        raise RuntimeError("this job always fails")

    every = datetime.timedelta(seconds=0.1)
    runner = PeriodicJobRunner([PeriodicJob("test.fail", fail, every), PeriodicJob("test.record", record, every)],
                               interval=0.02)
    runner.start()
    time.sleep(seconds)
    runner.stop()
    runner.join()


if __name__ == "__main__":
    main()
