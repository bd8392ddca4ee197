"""Custom-field values for the benchmark: a contract type "bench lease" with a choice field, whose
value every tenth contract carries (so a list filtered by it reads a tenth of the contracts)."""

import time

from django.db import connection


def ensure_custom_values() -> tuple[int, int, float]:
    """(field id, values, seconds to add them): added once per data set, kept when it is reused."""
    from qiyue.contracts.models import Contract, ContractType, CustomField, CustomValue

    contract_type, _created = ContractType.objects.get_or_create(name_zh="基准租赁合同",
                                                                  defaults={"name_en": "Bench lease"})
    field, _created = CustomField.objects.get_or_create(
        contract_type=contract_type, key="region", defaults={
            "label_zh": "区域", "label_en": "Region", "kind": "choice",
            "choices": [{"value": "east", "zh": "华东", "en": "East"}, {"value": "west", "zh": "华西", "en": "West"}]})
    if CustomValue.objects.filter(field=field).exists():
        return field.pk, CustomValue.objects.filter(field=field).count(), 0.0
    start = time.perf_counter()
    ids = list(Contract.objects.order_by("pk").values_list("pk", flat=True)[::10])
    for chunk in range(0, len(ids), 20000):
        part = ids[chunk:chunk + 20000]
        CustomValue.objects.bulk_create([CustomValue(contract_id=pk, field=field, text="east" if n % 2 else "west")
                                         for n, pk in enumerate(part)], batch_size=5000)
        Contract.objects.filter(pk__in=part).update(contract_type=contract_type)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contracts_customvalue")
    return field.pk, len(ids), time.perf_counter() - start


def custom_type(field_id: int) -> int:
    """The contract type of the bench's custom field."""
    from qiyue.contracts.models import CustomField

    return CustomField.objects.get(pk=field_id).contract_type_id
