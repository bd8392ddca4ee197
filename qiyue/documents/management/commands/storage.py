"""`qiyue storage check [--fix]`: compare the encrypted blobs in storage with the version rows.

Orphans (a blob no row names: an upload that failed between storage and database) are listed and,
with --fix, deleted once they are older than --min-age-minutes (default 60), so an upload still in
flight is never touched. Missing blobs (a row whose blob is gone) are listed; they need a restore.

It also lists the encrypted temporary files in FILE_UPLOAD_TEMP_DIR that processes killed outright
left behind (unreadable: their keys died with them) and, with --fix, removes those older than
--min-age-minutes; a file a live process holds is never touched (see qiyue.vault.spool.spool_sweep).
"""

import datetime

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from qiyue.documents.jobs import temporary_files_sweep
from qiyue.documents.models import DocumentVersion
from qiyue.vault.blobs import blob_names


class Command(BaseCommand):
    help = ("Check the file storage: orphan blobs, leftover temporary files and missing blobs. It lists (and "
            "with --fix deletes) orphan blobs and encrypted temporary files left by killed processes, and lists "
            "blobs missing from storage.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"])
        parser.add_argument("--fix", action="store_true", help="Delete orphan blobs and leftover temporary files older than --min-age-minutes.")
        parser.add_argument("--min-age-minutes", type=float, default=60.0)

    def handle(self, *args, fix, min_age_minutes, **options):
        stored = set(blob_names(default_storage))
        known = set(DocumentVersion.objects.values_list("blob_name", flat=True))
        orphans = sorted(stored - known)
        missing = sorted(known - stored)
        cutoff = timezone.now() - datetime.timedelta(minutes=min_age_minutes)
        removed = 0
        for name in orphans:
            line = f"orphan  {name}"
            if fix:
                try:
                    old_enough = default_storage.get_modified_time(name) <= cutoff
                except (NotImplementedError, OSError):
                    old_enough = False
                if old_enough:
                    default_storage.delete(name)
                    removed += 1
                    line += "  (deleted)"
                else:
                    line += "  (kept: younger than the minimum age)"
            self.stdout.write(line)
        swept = temporary_files_sweep(older_than=datetime.timedelta(minutes=min_age_minutes), remove=fix)
        for path in swept.stale:
            self.stdout.write(f"leftover temporary file  {path.name}{'  (deleted)' if fix else ''}")
        self.stdout.write(f"{len(swept.stale)} leftover temporary files ({swept.stale_bytes} bytes)"
                          f"{' deleted' if fix else ''}, {len(swept.in_use)} in use")
        for name in missing:
            self.stdout.write(self.style.ERROR(f"missing {name}"))
        self.stdout.write(f"{len(stored)} blobs in storage, {len(known)} versions; {len(orphans)} orphans"
                          f"{f' ({removed} deleted)' if fix else ''}, {len(missing)} missing")
        if missing:
            raise CommandError(f"{len(missing)} blobs are missing from storage", returncode=2)
