from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the background task worker (text extraction and OCR of uploaded files, and any other "
        "queued task). It polls the task table in the database every --interval seconds and runs "
        "ready tasks one at a time; start more workers (on this or other machines sharing the database) "
        "for more throughput — each task runs once. Ctrl+C or SIGTERM lets the running task finish; a "
        "second Ctrl+C stops at once. `make run` starts one worker beside the web server."
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

    def handle(self, *args, queues, interval, batch, max_tasks, worker_id, reload, retry_failed, **options):
        if retry_failed:
            from qiyue.documents.extraction import extraction_requeue
            from qiyue.documents.models import DocumentVersion, ExtractionStatus

            failed = DocumentVersion.objects.filter(extraction_status=ExtractionStatus.FAILED).values_list(
                "pk", flat=True)
            queued = sum(extraction_requeue(version_id=pk) for pk in failed.iterator())
            self.stdout.write(f"Queued {queued} failed text extraction(s) again.")
        arguments = ["db_worker", "--queue-name", queues, "--interval", str(interval),
                     "--reload" if reload else "--no-reload"]
        if batch:
            arguments += ["--batch", "--no-startup-delay"]
        if max_tasks:
            arguments += ["--max-tasks", str(max_tasks)]
        if worker_id:
            arguments += ["--worker-id", worker_id]
        call_command(*arguments, verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr)
