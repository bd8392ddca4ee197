"""Background tasks of the documents app, run by the worker (`qiyue worker`)."""

import datetime

from django_tasks import task


@task()
def extract_version(version_id: int) -> str:
    from .extraction import run_extraction

    return run_extraction(version_id)


def schedule_extraction(version_id: int, *, run_after: datetime.datetime | None = None) -> None:
    """Queue text extraction for a version (not before `run_after`); call it from transaction.on_commit."""
    if run_after is not None and extract_version.get_backend().supports_defer:
        extract_version.using(run_after=run_after).enqueue(version_id)
    else:  # a backend that cannot defer (the immediate one, in development) retries at once
        extract_version.enqueue(version_id)
