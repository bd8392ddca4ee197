"""Periodic jobs apps register, run by the worker (`qiyue worker`, see qiyue.ops.jobs).

An app declares its jobs in its own `jobs.py` and registers them from its AppConfig.ready(), e.g.
the documents app's recovery of abandoned text extractions every 5 minutes. Every worker runs the
jobs that are due, and a job runs once per period however many workers there are.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_TIMEOUT = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class PeriodicJob:
    """`function()` runs every `every` (at most once per period across all workers). A run that has
    not finished after `timeout` counts as lost with its worker: another worker may then start it."""

    name: str
    function: Callable[[], object]
    every: datetime.timedelta
    timeout: datetime.timedelta = DEFAULT_TIMEOUT


_jobs: dict[str, PeriodicJob] = {}


def register_periodic_job(name: str, function: Callable[[], object], *, every: datetime.timedelta,
                          timeout: datetime.timedelta = DEFAULT_TIMEOUT) -> PeriodicJob:
    """Run `function` every `every` in the worker (from an AppConfig.ready()); registering a name
    again replaces the job."""
    if every <= datetime.timedelta(0) or timeout <= datetime.timedelta(0):
        raise ValueError(f"periodic job {name!r}: its period and timeout must be positive")
    if not name or len(name) > 100:
        raise ValueError(f"periodic job {name!r}: a name of 1 to 100 characters is required")
    job = PeriodicJob(name=name, function=function, every=every, timeout=timeout)
    _jobs[name] = job
    return job


def unregister_periodic_job(name: str) -> None:
    _jobs.pop(name, None)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_jobs.values())
