"""The audit log page and its CSV export (R9.2, R9.3): admins and the auditor only."""

from urllib.parse import urlencode

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from qiyue.core.htmx import render_page
from qiyue.core.permissions import can_read_audit_log
from qiyue.core.roles import Role

from .exports import csv_lines
from .filters import AuditEventFilter
from .labels import ACTION_LABELS, action_label
from .models import AuditEvent
from .services import access_record

PAGE_SIZE = 50
MAX_CHANGE_LINES = 6
MAX_VALUE_CHARS = 80


def _require_reader(user) -> None:
    if not can_read_audit_log(user):
        raise PermissionDenied


def _object_types() -> dict[str, str]:
    """label_lower → verbose name for every Qiyue model (the audit log's target types)."""
    return {m._meta.label_lower: capfirst(m._meta.verbose_name)
            for m in apps.get_models() if m.__module__.startswith("qiyue.")}


def _action_choices() -> list[tuple[str, str]]:
    prefixes = sorted({code.split(".", 1)[0] for code in ACTION_LABELS})
    choices = [(f"{p}.", _("all “%(prefix)s” actions") % {"prefix": p}) for p in prefixes]
    choices += sorted(((code, f"{action_label(code)} ({code})") for code in ACTION_LABELS), key=lambda c: c[0])
    return choices


def _plain(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "label" in value:
        value = value["label"]
    elif isinstance(value, list):
        value = ", ".join(_plain(v) for v in value)
    elif isinstance(value, bool):
        value = _("yes") if value else _("no")
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown(value, choices: dict) -> str:
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    return _plain(value)


def change_lines(event, model=None) -> list[dict]:
    """The event's before/after pairs as short display lines (choice values shown by their label)."""
    lines = []
    for name, pair in (event.changes or {}).items():
        if isinstance(pair, list | tuple) and len(pair) == 2:
            before, after = pair
        else:
            before, after = None, pair
        field = _field(model, name)
        label = str(capfirst(field.verbose_name)) if field is not None and hasattr(field, "verbose_name") else name
        choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}
        lines.append({"field": label, "before": _shown(before, choices), "after": _shown(after, choices)})
    return lines


def _decorate(events, object_types: dict[str, str]) -> None:
    roles = dict(Role.choices)
    for event in events:
        try:
            model = apps.get_model(event.target_type)
        except (LookupError, ValueError):
            model = None
        lines = change_lines(event, model)
        event.change_lines = lines[:MAX_CHANGE_LINES]
        event.more_changes = len(lines) - len(event.change_lines)
        event.label = action_label(event.action)
        event.role_label = roles.get(event.actor_role, event.actor_role)
        event.type_label = object_types.get(event.target_type, event.target_type)


def _filter(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET, queryset=AuditEvent.objects.order_by("-seq"), request=request)


@login_required
@require_GET
def audit_list(request):
    _require_reader(request.user)
    filterset = _filter(request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else AuditEvent.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    object_types = _object_types()
    _decorate(page.object_list, object_types)
    context = {
        "nav": "audit",
        "filter": filterset,
        "form": filterset.form,
        "valid": valid,
        "page": page,
        "events": page.object_list,
        "object_types": sorted(object_types.items(), key=lambda t: t[1]),
        "action_choices": _action_choices(),
        "kinds": AuditEvent.Kind.choices,
    }
    return render_page(request, "audit/list.html", "audit/_table.html", context)


def _filter_label(request, filterset: AuditEventFilter) -> str:
    used = [(name, request.GET.get(name)) for name in filterset.filters if request.GET.get(name)]
    return urlencode(used) if used else "all"


@login_required
@require_GET
def audit_export(request):
    _require_reader(request.user)
    filterset = _filter(request)
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()),
            content_type="text/plain; charset=utf-8")
    with transaction.atomic():
        access_record(actor=request.user, target=(AuditEvent, _filter_label(request, filterset)),
                      action="audit.exported")
    events = filterset.qs.order_by("seq")
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="qiyue-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
