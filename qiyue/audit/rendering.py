"""How audit events read to a person: one renderer for the timelines on contract and customer pages
and for the audit log page.

An event's `changes` are {field: [before, after]} as `qiyue.core.services.audit_value` stored them
(a related row as {"id", "label"}). A line shows the field's translated name and each value by its
choice label; a related row the reader may not see (another team's contract named in a diff) is
shown without its label.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from qiyue.core.actors import SYSTEM_NAME
from qiyue.core.money import format_money
from qiyue.core.permissions import is_scoped_model, visible
from qiyue.core.roles import Role

from .models import AuditEvent
from .registry import action_label, change_format, change_label
from .services import ANONYMOUS_NAME

# The target type of events about a request rather than a row (see qiyue.audit.security).
REQUEST_TARGET = "http.request"

# The audit log page shows at most this many lines per event, each value cut to this length.
MAX_CHANGE_LINES = 6
MAX_VALUE_CHARS = 80


def model_of(event):
    """The model class an event is about (None when it no longer exists)."""
    try:
        return apps.get_model(event.target_type)
    except (LookupError, ValueError):
        return None


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def display(value, field=None, *, max_chars: int | None = None) -> str:
    """One stored value as text: a choice by its label, a related row by its label."""
    if field is not None and getattr(field, "choices", None) and isinstance(value, str) and value:
        text = str(dict(field.flatchoices).get(value, value))
    elif value is None or value == "" or value == []:
        return "—"
    elif isinstance(value, dict):
        text = str(value.get("label", value.get("id", "")))
    elif isinstance(value, bool):
        text = "✓" if value else "✗"
    elif isinstance(value, list):
        text = ", ".join(display(v) for v in value)
    else:
        text = str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text


def hidden_references(events, user) -> set[tuple[str, int]]:
    """(model label, id) of the scoped rows (contracts, customers: anything with an owner and a team)
    named in these events' diffs that `user` may not see."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        model = model_of(event)
        for name, pair in (event.changes or {}).items():
            field = _field(model, name)
            if field is None or not field.is_relation or field.related_model is None:
                continue
            if not is_scoped_model(field.related_model):
                continue
            label = field.related_model._meta.label
            for value in pair if isinstance(pair, list) else [pair]:
                if isinstance(value, dict) and isinstance(value.get("id"), int):
                    wanted.setdefault(label, set()).add(value["id"])
    hidden = set()
    for label, ids in wanted.items():
        model = apps.get_model(label)
        seen = set(visible(user, model._base_manager.filter(pk__in=ids)).values_list("pk", flat=True))
        hidden |= {(label, pk) for pk in ids - seen}
    return hidden


def change_lines(event, model=None, *, hidden: frozenset | set = frozenset(),
                 max_chars: int | None = None) -> list[dict]:
    """The event's before/after pairs as display lines: {field, before, after, created}."""
    lines = []
    for name, pair in (event.changes or {}).items():
        if isinstance(pair, list | tuple):
            before, after = (list(pair) + [None, None])[:2]
        else:
            before, after = None, pair
        field = _field(model, name)
        formatted = change_format(name) if field is None else None

        def shown(value, field=field, formatted=formatted):
            if (isinstance(value, dict) and field is not None and field.is_relation
                    and (field.related_model._meta.label, value.get("id")) in hidden):
                return _("(not visible to you)")
            if formatted is not None and value is not None and value != "":
                return formatted(value)
            return display(value, field, max_chars=max_chars)

        has_name = field is not None and hasattr(field, "verbose_name")
        label = str(capfirst(field.verbose_name if has_name else change_label(name)))
        lines.append({"field": label, "before": shown(before), "after": shown(after), "created": before is None})
    return lines


# A timeline row shows at most this many changed fields inline; more (a creation lists every field)
# fold under "details".
INLINE_CHANGES = 3


def headline(event) -> str:
    """A creation's one-line gist beside its label: the amount and currency it was created with."""
    changes = event.changes or {}
    amount, currency = (changes.get(key) for key in ("amount", "currency"))
    amount = amount[-1] if isinstance(amount, list) else amount
    currency = currency[-1] if isinstance(currency, list) else currency
    if amount in (None, "") or not isinstance(currency, str) or not currency:
        return ""
    try:
        return f"{format_money(amount, currency)} {currency}"
    except (ArithmeticError, ValueError, TypeError):
        return ""


def timeline_rows(events, user) -> list[dict]:
    """Audit events as rows for partials/timeline.html: who, what, when, a creation's gist, and each
    before → after (folded when there are more than INLINE_CHANGES)."""
    events = list(events)
    hidden = hidden_references(events, user)
    rows = []
    for event in events:
        changes = change_lines(event, model_of(event), hidden=hidden)
        created = bool(changes) and all(line["created"] for line in changes)
        rows.append({"event": event, "label": action_label(event.action), "changes": changes,
                     "headline": headline(event) if created else "",
                     "folded": len(changes) > INLINE_CHANGES})
    return rows


def actor_display(event) -> str:
    """Who acted, as the page shows it: "system" and "anonymous" (no user id) translated."""
    if event.actor_id is None and event.actor_name in ("", SYSTEM_NAME):
        return _("system")
    if event.actor_id is None and event.actor_name == ANONYMOUS_NAME:
        return _("anonymous")
    return event.actor_name


def decorate_for_log(events, object_types: dict[str, str]) -> None:
    """Set the audit log page's display attributes on each event (its readers see everything).
    Security events (sign-ins, denials) have no contract or customer and often no model at all as
    their target: their type shows as stored and their `changes` by the labels registered for them."""
    roles = dict(Role.choices)
    outcomes = dict(AuditEvent.Outcome.choices)
    object_types = {**object_types, REQUEST_TARGET: _("Request")}
    for event in events:
        event.actor_display = actor_display(event)
        event.outcome_label = outcomes.get(event.outcome, event.outcome)
        lines = change_lines(event, model_of(event), max_chars=MAX_VALUE_CHARS)
        event.change_lines = lines[:MAX_CHANGE_LINES]
        event.more_changes = len(lines) - len(event.change_lines)
        event.label = action_label(event.action)
        event.role_label = roles.get(event.actor_role, event.actor_role)
        event.type_label = object_types.get(event.target_type, event.target_type)
