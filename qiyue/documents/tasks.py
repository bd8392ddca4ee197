"""Background tasks of the documents app, run by the worker (`qiyue worker`)."""

from django_tasks import task


@task()
def extract_version(version_id: int) -> None:
    from .extraction import run_extraction

    run_extraction(version_id)


def schedule_extraction(version_id: int) -> None:
    """Queue text extraction for a version; call it from transaction.on_commit."""
    extract_version.enqueue(version_id)
