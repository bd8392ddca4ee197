"""Background tasks of the documents app, run by the worker (`qiyue worker`). The extraction task is
defined in extraction.py, beside the code that queues it again after a failure; it is named here too,
so tasks queued under this module's path still run."""

from .extraction import extract_version, schedule_extraction

__all__ = ["extract_version", "schedule_extraction"]
