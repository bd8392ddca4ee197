import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from qiyue.core import context
from qiyue.core.actors import SYSTEM_NAME

from .chain import CURRENT_VERSION, compute_mac
from .models import AuditEvent

# The actor name of an event by someone not signed in (a failed sign-in, a denied anonymous request).
ANONYMOUS_NAME = "anonymous"

# Any fixed number: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 7_112_001


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    # SQLite runs write transactions one at a time (BEGIN IMMEDIATE), which is the lock.


def printable(text: str) -> str:
    """`text` with control and format characters (CR, LF, ESC of terminal colour codes, NUL, bidi
    overrides, line separators …) written as visible escapes, so a label cannot forge a line or reorder
    text in a log viewer, a CSV or a terminal. Spaces, the full-width one included, stay."""
    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else ch
                   for ch in text)


# The objects whose timelines an event rolls up to, and the column that keys each timeline.
ROLLUP_COLUMNS = {"contracts.contract": "contract_id", "customers.customer": "customer_id"}


def _rollup(objects) -> dict[str, int]:
    """{"contract_id": …, "customer_id": …} of the first contract and customer among `objects`
    (model instances, or (model class, pk) pairs when only the id is at hand)."""
    columns: dict[str, int] = {}
    for obj in objects:
        if obj is None:
            continue
        # __class__, not type(): a lazily loaded request.user (SimpleLazyObject) passes it on.
        model, pk = obj if isinstance(obj, tuple) else (obj.__class__, obj.pk)
        column = ROLLUP_COLUMNS.get(model._meta.label_lower)
        if column is not None and pk is not None:
            columns.setdefault(column, pk)
    return columns


def _actor_name(actor) -> str:
    if actor is None:
        return SYSTEM_NAME
    if not getattr(actor, "is_authenticated", True):
        return ANONYMOUS_NAME
    return str(actor)


def audit_record(
    *,
    actor,
    action: str,
    target,
    changes: dict[str, Any] | None = None,
    kind: str = AuditEvent.Kind.CHANGE,
    related: Iterable = (),
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (so it commits or rolls
    back with the change it describes). `target` is a model instance, or for an event about
    many rows (an export) a `(model, label)` pair, or for one that names a row without loading it
    (a denied request, a failed sign-in) a `(model or "app.model", id, label)` triple. `related`
    names the objects the event rolls up to besides the target (a document's contract and customer;
    a payment's contract): the event shows on their timelines. `actor` None (or the system actor)
    records the system; an anonymous user records "anonymous". The request's id, client address,
    user agent and correlation id come from the request context (no query)."""
    ctx = context.current.get()
    if isinstance(target, tuple):
        model, target_id, label = target if len(target) == 3 else (target[0], "*", target[1])
        target_type = model if isinstance(model, str) else model._meta.label_lower
        target_id = printable(str(target_id))[:64]
        target_label = label
        rollup = _rollup(related)
    else:
        target_type, target_id, target_label = target._meta.label_lower, str(target.pk), str(target)
        rollup = _rollup((target, *related))
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "mac").first()
        seq, previous_mac = (last[0] + 1, last[1]) if last else (1, "")
        event = AuditEvent(
            seq=seq,
            occurred_at=timezone.now(),
            kind=kind,
            action=action,
            actor_id=getattr(actor, "pk", None),
            actor_name=printable(_actor_name(actor))[:150],
            actor_role=getattr(actor, "role", "") or "",
            target_type=target_type,
            target_id=target_id,
            target_label=printable(target_label)[:300],
            contract_id=rollup.get("contract_id"),
            customer_id=rollup.get("customer_id"),
            changes=changes or {},
            ip=ctx.ip,
            request_id=ctx.request_id,
            user_agent=printable(ctx.user_agent)[:300],
            outcome=outcome,
            correlation_id=ctx.correlation_id,
            chain_version=CURRENT_VERSION,
        )
        event.mac = compute_mac(previous_mac, event)
        event.save(force_insert=True)
    return event


def access_record(*, actor, target, action: str, related: Iterable = ()) -> AuditEvent:
    """Record that `actor` viewed, downloaded or exported `target` (R9.2)."""
    return audit_record(actor=actor, action=action, target=target, kind=AuditEvent.Kind.ACCESS, related=related)
