"""`qiyue worker`: django-tasks' database worker (`db_worker`), plus the periodic jobs apps register
(qiyue.core.jobs; today the recovery of text extractions whose worker was lost, see
qiyue.documents.extraction): the due ones run when the worker starts, and a background thread looks
for due jobs every POLL_INTERVAL seconds while it runs, each job once per period across all workers
(see qiyue.ops.jobs). At start it also removes the encrypted temporary files that killed processes
left on this machine (qiyue.documents.jobs.temporary_files_sweep). `--recover` runs the extraction
recovery once by hand."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from qiyue.ops.jobs import PeriodicJobRunner, run_due_jobs


class Command(BaseCommand):
    help = (
        "Run the background task worker (text extraction and OCR of uploaded files, and any other "
        "queued task). It polls the task table in the database every --interval seconds and runs "
        "ready tasks one at a time; start more workers (on this or other machines sharing the database) "
        "for more throughput — each task runs once. Ctrl+C or SIGTERM lets the running task finish; a "
        "second Ctrl+C stops at once. `make run` starts one beside the web server. It also runs the "
        "periodic jobs apps register, each once per period whatever the number of workers: when it "
        "starts, and while it runs. Every 5 minutes one recovers text extractions whose worker was "
        "killed: a version still running after the extraction time limit (QIYUE_EXTRACTION_TIME_LIMIT) "
        "plus 5 minutes is queued again, or failed once its attempts are used up. At start, and every 15 "
        "minutes, it removes the encrypted temporary files that killed processes left behind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="*",
                            help="Comma-separated queue names to work on (default: all queues, '*').")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds to wait before polling again when no task is ready (default: 1).")
        parser.add_argument("--batch", action="store_true",
                            help="Run every ready task, then exit (for cron or a one-off catch-up).")
        parser.add_argument("--max-tasks", type=int, default=None,
                            help="Exit after this many tasks (a supervisor restarts it; bounds memory growth).")
        parser.add_argument("--worker-id", default=None,
                            help="A name for this worker in the task table, unique per worker (default: random).")
        parser.add_argument("--reload", action="store_true",
                            help="Restart when the code changes (development only).")
        parser.add_argument("--retry-failed", action="store_true",
                            help="First queue again every document version whose text extraction failed "
                                 "(e.g. after installing Tesseract or restoring a master key).")
        parser.add_argument("--recover", action="store_true",
                            help="Only recover the text extractions abandoned by a lost worker (running past "
                                 "the time limit plus 5 minutes: queued again, or failed when out of "
                                 "attempts), print how many, and exit without running tasks or jobs.")

    def handle(self, *args, queues, interval, batch, max_tasks, worker_id, reload, retry_failed, recover,
               **options):
        from qiyue.documents.extraction import extraction_recover_stale

        if retry_failed:
            from qiyue.documents.extraction import extraction_requeue
            from qiyue.documents.models import DocumentVersion, ExtractionStatus

            failed = DocumentVersion.objects.filter(extraction_status=ExtractionStatus.FAILED).values_list(
                "pk", flat=True)
            queued = sum(extraction_requeue(version_id=pk) for pk in failed.iterator())
            self.stdout.write(f"Queued {queued} failed text extraction(s) again.")
        if recover:
            recovered = extraction_recover_stale()
            self.stdout.write(f"Recovered {recovered} text extraction(s) abandoned by a lost worker.")
            return
        # With --reload this process only restarts a child that runs the same command: the child runs the jobs.
        reloader_parent = reload and not batch and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if not reloader_parent:
            # This machine's leftovers first: the periodic sweep runs on one worker per period, maybe
            # on another machine with its own temporary directory.
            from qiyue.documents.jobs import temporary_files_sweep

            swept = temporary_files_sweep()
            if swept.stale:
                self.stdout.write(f"Start-up sweep: {swept}.")
            run_due_jobs()
        arguments = ["db_worker", "--queue-name", queues, "--interval", str(interval),
                     "--reload" if reload else "--no-reload"]
        if batch:
            arguments += ["--batch", "--no-startup-delay"]
        if max_tasks:
            arguments += ["--max-tasks", str(max_tasks)]
        if worker_id:
            arguments += ["--worker-id", worker_id]
        runner = None if batch or reloader_parent else PeriodicJobRunner()
        if runner:
            runner.start()
        try:
            call_command(*arguments, verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr)
        finally:
            if runner:
                runner.stop()
                runner.join(timeout=5)  # let a job under way commit
