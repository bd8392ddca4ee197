"""Contract numbers from a configurable pattern, e.g. HT-{year}-{seq:05d}.

The sequence is kept per rendered prefix (so it restarts each year when the pattern has
{year}) in a row locked for the transaction: numbers are unique and never handed out twice.
"""

import datetime
import string

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import NumberSequence


def _prefix_key(pattern: str, today: datetime.date) -> str:
    """The pattern with everything but {seq} filled in: the sequence's scope."""
    parts = []
    for literal, field, spec, _conv in string.Formatter().parse(pattern):
        parts.append(literal)
        if field == "seq":
            parts.append("{seq}")
        elif field:
            value = {"year": today.year, "month": today.month, "day": today.day}[field]
            parts.append(format(value, spec or ""))
    return "".join(parts)


def next_contract_number(today: datetime.date | None = None, pattern: str | None = None) -> str:
    pattern = pattern or settings.QIYUE_CONTRACT_NUMBER_PATTERN
    today = today or timezone.localdate()
    key = _prefix_key(pattern, today)[:100]
    with transaction.atomic():
        seq, _created = NumberSequence.objects.select_for_update().get_or_create(key=key)
        seq.last += 1
        seq.save(update_fields=["last"])
    return pattern.format(year=today.year, month=today.month, day=today.day, seq=seq.last)
