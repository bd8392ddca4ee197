"""The audit log's HMAC chain.

Each event's `mac` is HMAC-SHA256(key, previous mac + canonical JSON of the event). The key
lives outside the database (QIYUE_AUDIT_KEY or the data directory), so someone who can write
the table cannot forge a consistent chain; `seq` has no gaps, so a removed row shows too.
"""

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings

CHAINED_FIELDS = (
    "seq", "occurred_at", "kind", "action", "actor_id", "actor_name", "actor_role", "target_type",
    "target_id", "target_label", "contract_id", "customer_id", "changes", "ip", "request_id",
)


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(event) -> bytes:
    data = {name: _plain(getattr(event, name)) for name in CHAINED_FIELDS}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_mac(previous_mac: str, event) -> str:
    key = settings.QIYUE_AUDIT_KEY.encode()
    return hmac.new(key, previous_mac.encode() + b"\n" + canonical(event), hashlib.sha256).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str = ""


def verify(queryset) -> VerifyResult:
    """Walk the log in `seq` order and return the first event that does not fit the chain."""
    previous_mac = ""
    expected_seq = 1
    checked = 0
    for event in queryset.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            reason = "removed" if event.seq > expected_seq else "reordered"
            return VerifyResult(False, checked, event.pk, event.seq, reason)
        if not hmac.compare_digest(event.mac, compute_mac(previous_mac, event)):
            return VerifyResult(False, checked, event.pk, event.seq, "changed")
        previous_mac = event.mac
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
