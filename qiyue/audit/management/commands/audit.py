from django.core.management.base import BaseCommand, CommandError

from qiyue.audit.chain import verify
from qiyue.audit.checkpoints import (
    CheckpointError,
    checkpoint_problems,
    checkpoint_write,
    destinations,
    key_id,
    load_public_key,
    public_key_text,
    read_checkpoint,
    signing_key,
)
from qiyue.audit.models import AuditEvent


class Command(BaseCommand):
    help = ("Verify the audit log's chain, write and check signed checkpoints. 'audit verify' checks the HMAC chain and prints OK or the first bad event; with "
            "--checkpoint also that the log still reaches a signed checkpoint. 'audit checkpoint' writes a "
            "signed checkpoint to the configured destinations (and prints it). 'audit public-key' prints the "
            "key auditors check checkpoints with.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "public-key"])
        parser.add_argument("--checkpoint", metavar="FILE_OR_JSON",
                            help="verify: a checkpoint file (its last line with a valid signature is used) or "
                                 "one checkpoint as JSON")
        parser.add_argument("--line", type=int, help="verify: use this line (from 1) of the checkpoint file")
        parser.add_argument("--public-key", metavar="BASE64",
                            help="verify: the public key to check the checkpoint's signature with "
                                 "(default: this installation's own)")

    def handle(self, *args, action, checkpoint, line, public_key, **options):
        if action == "public-key":
            self.stdout.write(f"{public_key_text()}  (key id {key_id()})")
        elif action == "checkpoint":
            self._checkpoint()
        else:
            self._verify(checkpoint, line, public_key)

    def _checkpoint(self):
        if not destinations():
            self.stderr.write("No checkpoint destination is configured (QIYUE_AUDIT_CHECKPOINT_FILE, "
                              "QIYUE_AUDIT_CHECKPOINT_SYSLOG, QIYUE_AUDIT_CHECKPOINT_EMAIL): the checkpoint below "
                              "was written nowhere else. Keep it somewhere the database's owner cannot reach.")
        result = checkpoint_write()
        self.stdout.write(result.checkpoint.to_json())
        if result.failed:
            raise CommandError(str(result))
        text = str(result)
        self.stderr.write(text[0].upper() + text[1:] + ".")

    def _verify(self, source, line, public_key):
        failures = []
        result = verify(AuditEvent.objects.all())
        if result.ok:
            self.stdout.write(f"OK: {result.checked} events verified.")
        else:
            failures.append(
                f"FAILED at event id {result.first_bad_id} (seq {result.first_bad_seq}): the log was {result.reason} "
                f"there; the {result.checked} events before it are intact.")
        if source is None:
            if result.ok:
                self.stdout.write("The chain cannot show that its newest events were removed: "
                                  "verify with --checkpoint for that.")
        else:
            try:
                public = load_public_key(public_key) if public_key else signing_key().public_key()
                checkpoint, notes = read_checkpoint(source, public=public, line=line)
                for note in notes:
                    self.stderr.write(f"Note: {note}.")
                problems = checkpoint_problems(checkpoint, public=public)
            except CheckpointError as exc:
                problems = [str(exc)]
            if problems:
                failures += [f"FAILED against the checkpoint: {problem}." for problem in problems]
            else:
                self.stdout.write(f"OK: the log reaches the checkpoint of seq {checkpoint.seq} written "
                                  f"{checkpoint.written_at} (key {checkpoint.key_id}) with the same mac.")
        if failures:
            raise CommandError("\n".join(failures))
