"""The documents app's periodic jobs (registered in apps.py, run by the worker): the recovery of
text extractions whose worker was lost, every 5 minutes (see extraction.extraction_recover_stale),
and the sweep of encrypted temporary files that killed processes left in FILE_UPLOAD_TEMP_DIR (the
spooled uploads: see qiyue.vault.spool.spool_sweep), every 15 minutes."""

import datetime

from django.conf import settings

from qiyue.core.jobs import register_periodic_job
from qiyue.vault.spool import SpoolSweep, spool_sweep

from .extraction import extraction_recover_stale

RECOVER_STALE_EXTRACTIONS = "documents.recover_stale_extractions"
RECOVER_EVERY = datetime.timedelta(minutes=5)
SWEEP_TEMPORARY_FILES = "documents.sweep_temporary_files"
SWEEP_EVERY = datetime.timedelta(minutes=15)
# A temporary file is swept only once it has not been written for this long (and no live process
# holds it): the margin between a file's creation and its lock.
SWEEP_MIN_AGE = datetime.timedelta(minutes=15)


def temporary_files_sweep(*, older_than: datetime.timedelta = SWEEP_MIN_AGE, remove: bool = True) -> SpoolSweep:
    """Remove (or with remove=False list) the encrypted temporary files in FILE_UPLOAD_TEMP_DIR that
    no live process holds, last written more than `older_than` ago."""
    return spool_sweep(directory=settings.FILE_UPLOAD_TEMP_DIR, older_than=older_than, remove=remove)


def register() -> None:
    register_periodic_job(RECOVER_STALE_EXTRACTIONS, extraction_recover_stale, every=RECOVER_EVERY)
    register_periodic_job(SWEEP_TEMPORARY_FILES, temporary_files_sweep, every=SWEEP_EVERY)
