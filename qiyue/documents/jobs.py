"""The documents app's periodic job (registered in apps.py, run by the worker): the recovery of
text extractions whose worker was lost, every 5 minutes (see extraction.extraction_recover_stale)."""

import datetime

from qiyue.core.jobs import register_periodic_job

from .extraction import extraction_recover_stale

RECOVER_STALE_EXTRACTIONS = "documents.recover_stale_extractions"
RECOVER_EVERY = datetime.timedelta(minutes=5)


def register() -> None:
    register_periodic_job(RECOVER_STALE_EXTRACTIONS, extraction_recover_stale, every=RECOVER_EVERY)
