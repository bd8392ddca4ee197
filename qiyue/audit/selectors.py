from django.apps import apps
from django.db.models import QuerySet

from qiyue.core.permissions import visible_ids

from .events import audit_viewed_event
from .models import AuditEvent
from .services import ROLLUP_COLUMNS


def audit_log_read(*, user, filters: str) -> QuerySet:
    """The audit log for its page, the API's list: the read is recorded (the filters and page used as
    its label) before any row is read. Callers have asked `can_read_audit_log` already."""
    audit_viewed_event(actor=user, filters=filters)
    return AuditEvent.objects.order_by("-seq")


def audit_event_open(*, user, event: AuditEvent) -> AuditEvent:
    """One event opened through the API, its read recorded."""
    audit_viewed_event(actor=user, filters="", target=event)
    return event


def timeline(*, contract_id: int | None = None, customer_id: int | None = None,
             include_access: bool = False, limit: int = 200) -> list[AuditEvent]:
    qs: QuerySet = AuditEvent.objects.all()
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if not include_access:
        qs = qs.filter(kind=AuditEvent.Kind.CHANGE)
    return list(qs.order_by("-seq")[:limit])


def customer_timeline(*, user, customer_id: int, limit: int = 200) -> list[AuditEvent]:
    """The customer's timeline without the events of its contracts `user` may not see (another team's
    contract of a shared customer)."""
    events = timeline(customer_id=customer_id, limit=limit)
    contract_model = apps.get_model(next(label for label, column in ROLLUP_COLUMNS.items() if column == "contract_id"))
    named = {e.contract_id for e in events if e.contract_id is not None}
    seen = visible_ids(user, contract_model, named)
    return [e for e in events if e.contract_id is None or e.contract_id in seen]
