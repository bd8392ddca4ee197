"""CSV export of the (filtered) audit log: streamed, UTF-8 with a BOM so Excel reads Chinese."""

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .registry import action_label

BOM = "\ufeff"
# Cells starting with these are formulas to a spreadsheet; prefix them so they stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header() -> list[str]:
    return [
        _("Sequence"), _("Time"), _("Kind"), _("Action"), _("Action label"), _("Actor id"), _("Actor"),
        _("Actor role"), _("Object type"), _("Object id"), _("Object"), _("Contract id"), _("Customer id"),
        _("Changes"), _("IP address"), _("Request id"), _("Client request id"), _("User agent"), _("Outcome"),
        _("Chain version"), _("Chain MAC"),
    ]


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def row(event) -> list[str]:
    occurred = timezone.localtime(event.occurred_at).isoformat(timespec="seconds")
    values = [
        event.seq, occurred, event.kind, event.action, action_label(event.action), event.actor_id,
        event.actor_name, event.actor_role, event.target_type, event.target_id, event.target_label,
        event.contract_id, event.customer_id,
        json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "",
        event.ip, event.request_id, event.correlation_id, event.user_agent, event.outcome,
        event.chain_version, event.mac,
    ]
    return [safe_cell(v) for v in values]


class _Echo:
    """A file-like object whose write() hands the line back to the csv writer's caller."""

    def write(self, value: str) -> str:
        return value


def csv_lines(events: QuerySet | Iterable) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header())
    iterable = events.iterator(chunk_size=2000) if isinstance(events, QuerySet) else events
    for event in iterable:
        yield writer.writerow(row(event))
