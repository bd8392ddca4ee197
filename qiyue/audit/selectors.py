from django.db.models import QuerySet

from .models import AuditEvent


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
