from django.core.management.base import BaseCommand, CommandError

from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Audit log tools. 'audit verify' checks the HMAC chain and prints OK or the first bad event."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        result = verify(AuditEvent.objects.all())
        if result.ok:
            self.stdout.write(f"OK: {result.checked} events verified.")
            return
        raise CommandError(
            f"FAILED at event id {result.first_bad_id} (seq {result.first_bad_seq}): the log was {result.reason} "
            f"there; the {result.checked} events before it are intact.")
