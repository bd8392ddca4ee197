"""The reminder scan as a periodic job of the worker (`qiyue worker`, which `make run` starts): every
hour, one worker at a time (the job's database lease, see qiyue.ops.jobs). Each rule covers the days
since it last ran, so the first run of a day does the day's work and the others almost nothing.
External schedulers run the same scan with `qiyue reminders run`."""

import datetime

from qiyue.core.jobs import register_periodic_job

from .scan import run_scan

SCAN = "reminders.scan"
SCAN_EVERY = datetime.timedelta(hours=1)
SCAN_TIMEOUT = datetime.timedelta(minutes=30)

register_periodic_job(SCAN, run_scan, every=SCAN_EVERY, timeout=SCAN_TIMEOUT)
