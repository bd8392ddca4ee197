from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from qiyue.core import context

from .chain import compute_mac
from .models import AuditEvent

# Any fixed number: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 7_112_001


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    # SQLite runs write transactions one at a time (BEGIN IMMEDIATE), which is the lock.


def _related_ids(target) -> tuple[int | None, int | None]:
    label = target._meta.label
    contract_id = target.pk if label == "contracts.Contract" else getattr(target, "contract_id", None)
    customer_id = target.pk if label == "customers.Customer" else getattr(target, "customer_id", None)
    return contract_id, customer_id


def audit_record(
    *,
    actor,
    action: str,
    target,
    changes: dict[str, Any] | None = None,
    kind: str = AuditEvent.Kind.CHANGE,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (so it commits or rolls
    back with the change it describes). `target` is a model instance, or for an event about
    many rows (an export) a `(model, label)` pair."""
    ctx = context.current.get()
    if isinstance(target, tuple):
        model, label = target
        target_type, target_id, target_label = model._meta.label_lower, "*", label
        contract_id = customer_id = None
    else:
        target_type, target_id, target_label = target._meta.label_lower, str(target.pk), str(target)
        contract_id, customer_id = _related_ids(target)
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
            actor_name=(str(actor) if actor is not None else "system")[:150],
            actor_role=getattr(actor, "role", "") or "",
            target_type=target_type,
            target_id=target_id,
            target_label=target_label[:300],
            contract_id=contract_id,
            customer_id=customer_id,
            changes=changes or {},
            ip=ctx.ip,
            request_id=ctx.request_id,
        )
        event.mac = compute_mac(previous_mac, event)
        event.save(force_insert=True)
    return event


def access_record(*, actor, target, action: str) -> AuditEvent:
    """Record that `actor` viewed, downloaded or exported `target` (R9.2)."""
    return audit_record(actor=actor, action=action, target=target, kind=AuditEvent.Kind.ACCESS)
