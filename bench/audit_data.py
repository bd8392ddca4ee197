"""The benchmark data set's audit log: the events the services would have written, appended to the
HMAC chain in bulk.

Each event is a dict of AuditEvent fields (no seq, chain version, outcome or mac): `append_events`
numbers them on from the newest event in the table, chains them as qiyue.audit.chain.compute_mac does
(the fields of the current chain version; `qiyue audit verify` accepts them) and inserts them with
fastload.bulk_insert.
Inserts only: the append-only guards refuse UPDATE and DELETE, never INSERT.

Events of a user carry the request facts the middleware would have given them (request id, client
address, user agent, now and then a client's correlation id); events of the system (a scheduled
activation or expiry) carry none, as outside a request.
"""

import datetime
import hashlib
import hmac
import json
import random
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from qiyue.audit.chain import CHAINED_FIELDS_BY_VERSION, CURRENT_VERSION
from qiyue.audit.models import AuditEvent
from qiyue.core.actors import SYSTEM_NAME

from .fastload import bulk_insert

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36 Edg/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "MicroMessenger/8.0.49",
]
# An integration's API client sends its own X-Request-ID, kept as the correlation id.
API_AGENT = "qiyue-erp-sync/2.3 python-httpx/0.27"
API_SHARE = 0.05
CHAINED_FIELDS = CHAINED_FIELDS_BY_VERSION[CURRENT_VERSION]


class Requests:
    """Request facts for events, from a seeded RNG: one office address per user, a new request id
    per event."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ips: dict[int, str] = {}

    def facts(self, actor_id: int | None) -> dict:
        if actor_id is None:
            return {"ip": None, "request_id": "", "user_agent": "", "correlation_id": ""}
        rng = self.rng
        ip = self.ips.get(actor_id)
        if ip is None:
            ip = self.ips[actor_id] = f"10.{rng.randint(1, 40)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        api = rng.random() < API_SHARE
        return {"ip": ip, "request_id": f"{rng.getrandbits(128):032x}",
                "user_agent": API_AGENT if api else rng.choice(USER_AGENTS),
                "correlation_id": f"erp-{rng.getrandbits(48):012x}" if api else ""}


def actor_fields(actor: tuple[int, str, str] | None) -> dict:
    """(id, name, role) of a user, or None for the system."""
    if actor is None:
        return {"actor_id": None, "actor_name": SYSTEM_NAME, "actor_role": ""}
    return {"actor_id": actor[0], "actor_name": actor[1], "actor_role": actor[2]}


def _mac(key: bytes, previous: str, event: dict) -> str:
    """chain.compute_mac of `event` (a dict, not a model instance: no attribute look-ups)."""
    data = {name: event[name] for name in CHAINED_FIELDS}
    data["occurred_at"] = event["occurred_at"].astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, previous.encode() + b"\n" + payload, hashlib.sha256).hexdigest()


def append_events(events: Iterable[dict]) -> int:
    """Chain `events` (in this order) after the newest event in the table and bulk-insert them."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "mac").first()
    seq, previous = last if last else (0, "")
    key = settings.QIYUE_AUDIT_KEY.encode()

    success, change = str(AuditEvent.Outcome.SUCCESS), str(AuditEvent.Kind.CHANGE)

    def rows():
        nonlocal seq, previous
        for event in events:
            seq += 1
            event.update(seq=seq, chain_version=CURRENT_VERSION, outcome=success)
            event.setdefault("kind", change)
            previous = event["mac"] = _mac(key, previous, event)
            yield event

    return bulk_insert(AuditEvent, rows())


def document_events(*, seed: int = 13, access_share: float = 0.4) -> int:
    """The documents' events (bench/search_data.py builds the documents after the contracts): the upload
    at each document's creation by its creator, the upload of its newer version where it has one, and
    for `access_share` of them 1–3 views, downloads or previews by the contract's owner or legal at
    times up to now; in time order, after the events already in the log. Returns the count."""
    from qiyue.accounts.models import User
    from qiyue.contracts.models import Contract
    from qiyue.documents.models import Document, DocumentVersion

    rng = random.Random(seed)
    now = datetime.datetime.now(datetime.UTC)
    users = {pk: (pk, name or username, role) for pk, name, username, role in
             User.objects.values_list("id", "display_name", "username", "role")}
    legal = User.objects.filter(role="legal").order_by("pk").values_list("pk", flat=True).first()
    owners = dict(Contract.objects.values_list("id", "owner_id"))
    versions: dict[int, list] = {}
    for document_id, number, filename, size, sha256 in (DocumentVersion.objects.order_by("number").values_list(
            "document_id", "number", "filename", "size", "sha256")):
        versions.setdefault(document_id, []).append((number, filename, size, sha256))
    plan = []
    documents = Document.objects.filter(deleted_at__isnull=True).order_by("id").values_list(
        "id", "title", "kind", "contract_id", "customer_id", "created_by_id", "created_at")
    for document in documents:
        created = min(document[6], now)
        plan.append((created, 0, "document.uploaded", document))
        span = max((now - created).total_seconds(), 60.0)
        if len(versions.get(document[0], ())) > 1:
            plan.append((created + datetime.timedelta(seconds=rng.uniform(1, span)), 1, "document.version_added",
                         document))
        if rng.random() < access_share:
            for _ in range(rng.randint(1, 3)):
                action = rng.choices(["document.viewed", "document.downloaded", "document.previewed"], [5, 3, 2])[0]
                plan.append((created + datetime.timedelta(seconds=rng.uniform(1, span)), 2, action, document))
    plan.sort(key=lambda item: (item[0], item[1], item[3][0]))
    requests = Requests(rng)

    def render(when, action, document):
        pk, title, kind, contract_id, customer_id, creator, _created = document
        held = versions.get(pk) or [(1, title, 0, "")]
        changes: dict = {}
        if action == "document.uploaded":
            actor = creator
            _number, filename, size, sha256 = held[0]
            changes = {"title": [None, title], "kind": [None, kind], "filename": [None, filename],
                       "size": [None, size], "sha256": [None, sha256], "version": [None, 1]}
        elif action == "document.version_added":
            actor = creator
            number, filename, size, sha256 = held[-1]
            changes = {"version": [number - 1, number], "filename": [None, filename], "size": [None, size],
                       "sha256": [None, sha256]}
        else:
            actor = owners.get(contract_id, creator) if rng.random() < 0.6 else legal
        return {"occurred_at": when, "kind": AuditEvent.Kind.CHANGE if action in (
                    "document.uploaded", "document.version_added") else AuditEvent.Kind.ACCESS,
                "action": action, **actor_fields(users.get(actor)), **requests.facts(actor),
                "target_type": "documents.document", "target_id": str(pk), "target_label": title,
                "contract_id": contract_id, "customer_id": customer_id, "changes": changes}

    with transaction.atomic():
        return append_events(render(when, action, document) for when, _order, action, document in plan)
