"""Signed checkpoints anchor the audit chain outside the database.

The HMAC chain (qiyue.audit.chain) shows an edited, removed or reordered event, but not a removed
*tail*: without its newest events the log is a shorter chain that still verifies. A checkpoint records
where the chain was at a moment — the newest event's `seq` and `mac`, its time, the number of events,
when it was written — signed with Ed25519, and goes somewhere the database's owner cannot reach (a file
on another machine or an append-only mount, a syslog line, an e-mail to the auditors). `qiyue audit
verify --checkpoint` then proves the log still reaches it: the event of that seq exists with that mac.

Why Ed25519 rather than an HMAC: whoever can check an HMAC can forge one, whereas the auditors (or the
mail archive, the syslog host) need only the public key to check a checkpoint and cannot make one. The
private key is derived from QIYUE_AUDIT_CHECKPOINT_KEY (by default DATA_DIR/audit_checkpoint_key).
"""

import base64
import datetime
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .models import AuditEvent
from .services import audit_record

VERSION = 1
# Signed bytes = this prefix + the canonical JSON of the checkpoint without its signature.
_DOMAIN = b"qiyue-audit-checkpoint-v1\n"
_KEY_LABEL = b"qiyue audit checkpoint signing key\n"
LOGGER_NAME = "qiyue.audit.checkpoint"
CHECKPOINT_ACTION = "audit.checkpoint"

logger = logging.getLogger(LOGGER_NAME)


class CheckpointError(Exception):
    pass


def _utc(value: datetime.datetime | None) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else ""


def signing_key() -> Ed25519PrivateKey:
    seed = hashlib.sha256(_KEY_LABEL + settings.QIYUE_AUDIT_CHECKPOINT_KEY.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_text(public: Ed25519PublicKey | None = None) -> str:
    """The public key as base64 of its 32 bytes: what auditors keep to check checkpoints."""
    return base64.b64encode(_raw(public or signing_key().public_key())).decode()


def key_id(public: Ed25519PublicKey | None = None) -> str:
    return hashlib.sha256(_raw(public or signing_key().public_key())).hexdigest()[:16]


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise CheckpointError("the public key is not the base64 of a 32-byte Ed25519 key") from exc


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    occurred_at: str
    written_at: str
    count: int
    key_id: str
    signature: str = field(default="", compare=False)

    def message(self) -> bytes:
        data = {"v": VERSION, **{k: v for k, v in asdict(self).items() if k != "signature"}}
        return _DOMAIN + json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps({"v": VERSION, **asdict(self)}, sort_keys=True, separators=(",", ":"))

    def signature_valid(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_json(cls, text: str) -> "Checkpoint":
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != VERSION:
                raise ValueError(f"not a version {VERSION} checkpoint")
            checkpoint = cls(seq=data["seq"], mac=data["mac"], occurred_at=data["occurred_at"],
                             written_at=data["written_at"], count=data["count"], key_id=data["key_id"],
                             signature=data["signature"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"not a checkpoint: {exc}") from exc
        if not (isinstance(checkpoint.seq, int) and isinstance(checkpoint.count, int) and checkpoint.seq >= 0
                and all(isinstance(getattr(checkpoint, name), str)
                        for name in ("mac", "occurred_at", "written_at", "key_id", "signature"))):
            raise CheckpointError("not a checkpoint: a field has the wrong type")
        return checkpoint


def checkpoint_take(*, now: datetime.datetime | None = None) -> Checkpoint:
    """A signed checkpoint of the chain as it is now."""
    key = signing_key()
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "mac", "occurred_at").first()
    seq, mac, occurred_at = last if last else (0, "", None)
    unsigned = Checkpoint(seq=seq, mac=mac, occurred_at=_utc(occurred_at), written_at=_utc(now or timezone.now()),
                          count=AuditEvent.objects.filter(seq__lte=seq).count(), key_id=key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


# Destinations ---------------------------------------------------------------------------------------

def file_problem(path: str) -> str:
    """Why `path` cannot hold checkpoints ("" when it can): it must be absolute and outside the data
    directory, which whoever can rewrite the database can usually rewrite too."""
    if not os.path.isabs(path):
        return f"{path!r} is not an absolute path"
    resolved, data_dir = Path(path).resolve(), Path(settings.DATA_DIR).resolve()
    if resolved == data_dir or resolved.is_relative_to(data_dir):
        return f"{path!r} is inside the data directory {str(data_dir)!r}; keep checkpoints away from the database"
    return ""


def destinations() -> list[str]:
    names = []
    if settings.QIYUE_AUDIT_CHECKPOINT_FILE:
        names.append("file")
    if settings.QIYUE_AUDIT_CHECKPOINT_SYSLOG:
        names.append("syslog")
    if settings.QIYUE_AUDIT_CHECKPOINT_EMAIL:
        names.append("email")
    return names


def _to_file(checkpoint: Checkpoint) -> None:
    path = settings.QIYUE_AUDIT_CHECKPOINT_FILE
    if problem := file_problem(path):
        raise CheckpointError(problem)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (checkpoint.to_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_syslog(checkpoint: Checkpoint) -> None:
    logger.info("%s", checkpoint.to_json())


def _to_email(checkpoint: Checkpoint) -> None:
    body = (f"The Qiyue audit log reached seq {checkpoint.seq} at {checkpoint.written_at}.\n"
            "Keep this message: it lets `qiyue audit verify --checkpoint` prove later that no newer event "
            "was removed.\n"
            f"Public key id {checkpoint.key_id}.\n\n{checkpoint.to_json()}\n")
    send_mail(f"Qiyue audit checkpoint: seq {checkpoint.seq}", body, None, settings.QIYUE_AUDIT_CHECKPOINT_EMAIL)


_WRITERS = {"file": _to_file, "syslog": _to_syslog, "email": _to_email}


@dataclass
class CheckpointWritten:
    checkpoint: Checkpoint
    written: list[str]
    failed: dict[str, str]

    def __str__(self):
        where = ", ".join(self.written) or "nowhere"
        failed = "".join(f"; {name} failed: {error}" for name, error in self.failed.items())
        return f"checkpoint at seq {self.checkpoint.seq} written to {where}{failed}"


def checkpoint_write(*, now: datetime.datetime | None = None) -> CheckpointWritten:
    """Take a checkpoint, write it to every configured destination and record that in the log
    (an `audit.checkpoint` event, which itself comes after the checkpointed seq)."""
    checkpoint = checkpoint_take(now=now)
    written, failed = [], {}
    for name in destinations():
        try:
            _WRITERS[name](checkpoint)
        except Exception as exc:  # one broken destination must not keep the others from their copy
            failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            written.append(name)
    result = CheckpointWritten(checkpoint, written, failed)
    audit_record(actor=None, action=CHECKPOINT_ACTION, target=(AuditEvent, str(result)))
    return result


def checkpoint_periodic() -> str:
    """The periodic job: a checkpoint when a destination is configured and the log grew since the
    last one."""
    if not destinations():
        return "no checkpoint destination configured"
    newest = AuditEvent.objects.order_by("-seq").values_list("seq", "action").first()
    if newest and newest[1] == CHECKPOINT_ACTION:
        return f"nothing new since the checkpoint recorded at seq {newest[0]}"
    result = checkpoint_write()
    if result.failed:
        raise CheckpointError(str(result))
    return str(result)


# Verification ---------------------------------------------------------------------------------------

def read_checkpoint(source: str, *, public: Ed25519PublicKey, line: int | None = None) -> tuple[Checkpoint, list[str]]:
    """The checkpoint in `source` (a JSON object, or a file of JSON lines: line `line`, or else the last
    line whose signature `public` accepts) and notes on the lines passed over."""
    if source.lstrip().startswith("{"):
        return Checkpoint.from_json(source), []
    try:
        lines = Path(source).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise CheckpointError(f"cannot read {source}: {exc.strerror}") from exc
    numbered = [(n, text) for n, text in enumerate(lines, 1) if text.strip()]
    if line is not None:
        chosen = [(n, text) for n, text in numbered if n == line]
        if not chosen:
            raise CheckpointError(f"{source} has no line {line}")
        return Checkpoint.from_json(chosen[0][1]), []
    passed = 0
    for _line, text in reversed(numbered):
        try:
            checkpoint = Checkpoint.from_json(text)
        except CheckpointError:
            passed += 1
            continue
        if checkpoint.signature_valid(public):
            notes = [f"{passed} later line(s) of {source} passed over: not a checkpoint or not signed by key "
                     f"{key_id(public)}"] if passed else []
            return checkpoint, notes
        passed += 1
    raise CheckpointError(f"bad signature: no line of {source} is a checkpoint signed by key {key_id(public)}")


def checkpoint_problems(checkpoint: Checkpoint, *, public: Ed25519PublicKey) -> list[str]:
    """What is wrong between the log as it is now and `checkpoint` (empty: the log still reaches it)."""
    if not checkpoint.signature_valid(public):
        return [f"bad signature: the checkpoint (seq {checkpoint.seq}) is not signed by key {key_id(public)}"
                f"{'' if checkpoint.key_id == key_id(public) else f' (it names key {checkpoint.key_id})'}"]
    if checkpoint.seq == 0:
        return []
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    if last < checkpoint.seq:
        return [f"truncated: the log ends at seq {last} but the checkpoint says {checkpoint.seq} "
                f"(written {checkpoint.written_at}): {checkpoint.seq - last} newest event(s) are gone"]
    problems = []
    mac = AuditEvent.objects.filter(seq=checkpoint.seq).values_list("mac", flat=True).first()
    if mac is None:
        problems.append(f"removed: the log has no event at seq {checkpoint.seq}, the checkpoint's")
    elif mac != checkpoint.mac:
        problems.append(f"rewritten: mac differs at seq {checkpoint.seq}: the events up to it are not the ones "
                        "checkpointed (removed and then written anew, or the chain recomputed with the audit key)")
    count = AuditEvent.objects.filter(seq__lte=checkpoint.seq).count()
    if count != checkpoint.count:
        problems.append(f"removed: {count} events up to seq {checkpoint.seq}, the checkpoint counted {checkpoint.count}")
    return problems
