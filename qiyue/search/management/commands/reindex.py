import time

from django.core.management.base import BaseCommand, CommandError

from qiyue.search.rebuild import RebuildRunning, default_workers, rebuild


class Command(BaseCommand):
    help = ("Rebuild the search index beside the live one, which keeps serving searches until the switch. "
            "It reads the objects of every registered search kind (contracts, customers, current document texts …).")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="Objects read per batch.")
        parser.add_argument("--workers", type=int, default=None,
                            help="Processes that cut and tokenize texts (default: one per core; "
                                 "0: this process).")

    def handle(self, *args, batch_size, workers, **options):
        start = time.perf_counter()

        def progress(objects, entries):
            self.stdout.write(f"  {objects:,} objects, {entries:,} entries, {time.perf_counter() - start:.0f} s")

        self.stdout.write("Rebuilding the search index beside the live one …")
        timings: dict[str, float] = {}
        try:
            total = rebuild(batch=batch_size, workers=default_workers() if workers is None else workers,
                            progress=progress, timings=timings)
        except RebuildRunning as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Search index rebuilt: {total:,} entries in {time.perf_counter() - start:.1f} s "
            f"({', '.join(f'{step} {seconds:.1f} s' for step, seconds in timings.items())})."))
