"""Running the periodic jobs apps register (qiyue.core.jobs) in the worker, one runner at a time
across all workers.

Each job has a PeriodicJobRun row. A worker claims a due job with one UPDATE that succeeds only when
the job did not start within its period and no run holds it (compare-and-set, the same on SQLite and
PostgreSQL); the claim commits before the job runs, so every other worker sees it. The run's end
(and its error, if any) is written back only while the claim is still this worker's. A job that
fails is logged and recorded, and runs again next period; it never stops the worker.
"""

import logging
import threading
import traceback
from collections.abc import Iterable

from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from qiyue.core.jobs import PeriodicJob, periodic_jobs

from .models import PeriodicJobRun

logger = logging.getLogger(__name__)

ERROR_LENGTH = 4000
# Seconds between two looks for due jobs in a running worker.
POLL_INTERVAL = 30.0


def _claim(job: PeriodicJob, now) -> bool:
    """Take the job's run for this period, if it is due and nobody holds it."""
    if not PeriodicJobRun.objects.filter(name=job.name).exists():
        try:
            with transaction.atomic():
                PeriodicJobRun.objects.create(name=job.name)
        except IntegrityError:  # another worker created it first
            pass
    due = Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - job.every)
    free = Q(running_until__isnull=True) | Q(running_until__lt=now)
    return bool(PeriodicJobRun.objects.filter(due, free, name=job.name).update(
        last_started_at=now, running_until=now + job.timeout))


def run_job(job: PeriodicJob, *, now=None) -> bool:
    """Run `job` if it is due and no other worker runs it; True when it ran (successfully or not)."""
    now = now or timezone.now()
    if not _claim(job, now):
        return False
    error = ""
    try:
        result = job.function()
    except Exception:
        error = traceback.format_exc()[-ERROR_LENGTH:]
        logger.exception("periodic job %s failed; it runs again in %s", job.name, job.every)
    else:
        logger.info("periodic job %s done: %s", job.name, result)
    PeriodicJobRun.objects.filter(name=job.name, last_started_at=now).update(
        last_finished_at=timezone.now(), last_error=error, running_until=None)
    return True


def run_due_jobs(jobs: Iterable[PeriodicJob] | None = None, *, now=None) -> list[str]:
    """Run every due job (the registered ones by default) that no other worker runs; returns the
    names of those that ran."""
    ran = []
    for job in periodic_jobs() if jobs is None else jobs:
        try:
            if run_job(job, now=now):
                ran.append(job.name)
        except Exception:  # the database itself failed (e.g. it restarted): try again next time
            logger.exception("periodic job %s could not be claimed; trying again later", job.name)
    return ran


class PeriodicJobRunner(threading.Thread):
    """Runs due jobs every `interval` seconds (POLL_INTERVAL) until stopped, closing its database connections after
    each round (a daemon thread: it never keeps the process alive)."""

    def __init__(self, jobs: Iterable[PeriodicJob] | None = None, *, interval: float | None = None):
        super().__init__(name="qiyue-periodic-jobs", daemon=True)
        self.jobs = None if jobs is None else list(jobs)
        self.interval = POLL_INTERVAL if interval is None else interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                run_due_jobs(self.jobs)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
