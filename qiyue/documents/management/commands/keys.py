"""`qiyue keys status|rotate|retire`: master keys of the encryption at rest (R9.4).

    qiyue keys status                  key ids in use, with the number of file versions under each
    qiyue keys rotate [--batch-size N] [--limit N]
                                       make a new master key current (a new key file, unless
                                       QIYUE_MASTER_KEY names a new one) and re-wrap every data key
    qiyue keys rotate --resume         continue an interrupted rotation onto the current key
    qiyue keys retire KEY_ID           remove an old key file once no version uses it

Only the 32-byte data keys are re-encrypted (in memory); the stored files never change and no
plaintext is written. Each batch commits on its own, so an interrupted run loses nothing.
Running servers and workers need no restart: each sees a new or removed key file on its next
request (see qiyue.vault.keys).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from qiyue.documents.events import keys_event
from qiyue.documents.models import DocumentVersion
from qiyue.documents.services import versions_rewrap
from qiyue.vault import keys


class Command(BaseCommand):
    help = "Show, rotate and retire the master keys that wrap the files' data keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Key ids and how many file versions each wraps.")
        rotate = sub.add_parser("rotate", help="New master key, then re-wrap every data key under it.")
        rotate.add_argument("--resume", action="store_true",
                            help="Do not make a new key: finish re-wrapping onto the current one.")
        rotate.add_argument("--batch-size", type=int, default=500)
        rotate.add_argument("--limit", type=int, default=None, help="Stop after this many versions.")
        retire = sub.add_parser("retire", help="Delete an old key file no version uses any more.")
        retire.add_argument("key_id")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"handle_{action}")(**options)
        except keys.MasterKeyError as exc:
            raise CommandError(str(exc)) from exc

    def handle_status(self, **options):
        current, available = keys.keyring()
        counts = dict(DocumentVersion.objects.values_list("key_id").annotate(n=Count("id")).order_by())
        source = "QIYUE_MASTER_KEY" if keys.current_from_settings() else "key file"
        self.stdout.write(f"current key: {current} ({source})")
        for kid in sorted(set(available) | set(counts)):
            marks = [m for m, on in (("current", kid == current), ("MISSING", kid not in available)) if on]
            self.stdout.write(f"  {kid}  {counts.get(kid, 0):>8} versions  {' '.join(marks)}".rstrip())

    def handle_rotate(self, *, resume, batch_size, limit, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        before = keys.keyring()[0]
        if not resume and not keys.current_from_settings():
            kid = keys.create_key_file()
            self.stdout.write(f"new master key {kid} (was {before})")
        else:
            kid = keys.keyring()[0]
            self.stdout.write(f"re-wrapping onto the current master key {kid}")

        def progress(done, total):
            self.stdout.write(f"  {done}/{total} versions re-wrapped")

        result = versions_rewrap(batch_size=batch_size, limit=limit, progress=progress)
        self.stdout.write(self.style.SUCCESS(
            f"{result.rewrapped} versions re-wrapped under {result.key_id}; {result.remaining} remaining"))
        if result.remaining:
            self.stdout.write("Run `qiyue keys rotate --resume` to continue.")

    def handle_retire(self, *, key_id, **options):
        current, available = keys.keyring()
        if key_id == current:
            raise CommandError(f"{key_id} is the current master key; rotate first")
        in_use = DocumentVersion.objects.filter(key_id=key_id).count()
        if in_use:
            raise CommandError(f"{in_use} versions still use {key_id}; run `qiyue keys rotate --resume` first")
        path = keys.key_file(key_id)
        if not path.exists():
            if key_id in available:
                raise CommandError(f"{key_id} comes from QIYUE_OLD_MASTER_KEYS: remove it there")
            raise CommandError(f"no key file for {key_id}")
        path.unlink()
        keys_event(actor=None, action="keys.retired", label=f"retired master key {key_id}",
                     changes={"key_id": [key_id, None]})
        self.stdout.write(self.style.SUCCESS(f"retired {key_id}"))
