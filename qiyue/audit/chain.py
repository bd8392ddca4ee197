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

# The fields each chain version's MAC covers. An event keeps the version it was written with, so
# adding fields never breaks the verification of older events; version 2 covers its own version too,
# so rewriting a row's version to 1 to leave its newer fields unprotected changes its MAC input.
CHAINED_FIELDS_BY_VERSION = {
    1: ("seq", "occurred_at", "kind", "action", "actor_id", "actor_name", "actor_role", "target_type",
        "target_id", "target_label", "contract_id", "customer_id", "changes", "ip", "request_id"),
}
CHAINED_FIELDS_BY_VERSION[2] = (*CHAINED_FIELDS_BY_VERSION[1], "chain_version", "user_agent", "outcome",
                                "correlation_id")
CURRENT_VERSION = 2
CHAINED_FIELDS = CHAINED_FIELDS_BY_VERSION[CURRENT_VERSION]


class UnknownVersion(ValueError):
    pass


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(event) -> bytes:
    fields = CHAINED_FIELDS_BY_VERSION.get(getattr(event, "chain_version", 1))
    if fields is None:
        raise UnknownVersion(event.chain_version)
    data = {name: _plain(getattr(event, name)) for name in fields}
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
        try:
            expected_mac = compute_mac(previous_mac, event)
        except UnknownVersion:
            return VerifyResult(False, checked, event.pk, event.seq, "changed")
        if not hmac.compare_digest(event.mac, expected_mac):
            return VerifyResult(False, checked, event.pk, event.seq, "changed")
        previous_mac = event.mac
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
