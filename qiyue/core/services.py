"""Shared write helpers: exact before/after diffs for the audit log."""

import datetime
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models


def audit_value(value: Any) -> Any:
    """A JSON-safe copy of a field value, as the audit log stores it."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [audit_value(v) for v in value]
    return value


def field_value(instance: models.Model, name: str) -> Any:
    field = instance._meta.get_field(name)
    if field.is_relation and field.many_to_one:
        return getattr(instance, name)
    return getattr(instance, field.attname)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Every named field as {field: [None, value]}: the 'after' of a create."""
    out = {}
    for name in fields:
        value = audit_value(field_value(instance, name))
        if value not in (None, "", []):
            out[name] = [None, value]
    return out


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """Set only the allowed `fields` present in `data`; return {field: [before, after]} of real changes.

    Does not save: the calling service validates and saves inside its transaction.
    """
    changes: dict[str, list[Any]] = {}
    for name in fields:
        if name not in data:
            continue
        before = field_value(instance, name)
        after = data[name]
        if before == after:
            continue
        setattr(instance, name, after)
        changes[name] = [audit_value(before), audit_value(after)]
    return changes
