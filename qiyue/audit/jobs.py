"""The audit app's periodic job (registered in apps.py, run by the worker): a signed checkpoint of
the chain every QIYUE_AUDIT_CHECKPOINT_MINUTES (60 by default) when the log grew and a destination
is configured (see checkpoints.checkpoint_periodic)."""

import datetime

from django.conf import settings

from qiyue.core.jobs import register_periodic_job

from .checkpoints import checkpoint_periodic

WRITE_CHECKPOINT = "audit.write_checkpoint"


def register() -> None:
    register_periodic_job(WRITE_CHECKPOINT, checkpoint_periodic,
                          every=datetime.timedelta(minutes=settings.QIYUE_AUDIT_CHECKPOINT_MINUTES))
