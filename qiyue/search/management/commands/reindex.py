import time

from django.core.management.base import BaseCommand

from qiyue.search.indexing import reindex_all


class Command(BaseCommand):
    help = ("Rebuild the search index from the objects of every registered search kind (contracts, customers, "
            "current document texts …).")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="Entries written per transaction.")

    def handle(self, *args, batch_size, **options):
        start = time.perf_counter()

        def progress(objects, entries):
            self.stdout.write(f"  {objects:,} objects, {entries:,} entries, {time.perf_counter() - start:.0f} s")

        self.stdout.write("Rebuilding the search index …")
        total = reindex_all(batch=batch_size, progress=progress)
        self.stdout.write(self.style.SUCCESS(
            f"Search index rebuilt: {total:,} entries in {time.perf_counter() - start:.1f} s."))
