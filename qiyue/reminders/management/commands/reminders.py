"""`qiyue reminders run`: the reminder scan, for an external scheduler (cron, a Kubernetes CronJob)."""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from qiyue.reminders.scan import run_scan


class Command(BaseCommand):
    help = ("Send the reminders that are due (and expire or renew contracts whose dates have passed). Safe to run "
            "at any time, as often as you like, beside the worker: each reminder goes out once.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--date", help="scan as of this day (YYYY-MM-DD; default: today)")

    def handle(self, *args, action, date=None, **options):
        today = None
        if date:
            try:
                today = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"--date: not a date of the form YYYY-MM-DD: {date!r}") from None
        result = run_scan(today=today)
        self.stdout.write(json.dumps(result, ensure_ascii=False, sort_keys=True))
