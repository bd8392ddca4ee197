"""The audit log page and its CSV export (R9.2, R9.3): admins and the auditor only."""

from urllib.parse import urlencode

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from qiyue.core.htmx import render_page

from .events import audit_exported_event
from .exports import csv_lines
from .filters import AuditEventFilter
from .models import AuditEvent
from .policies import can_read_audit_log
from .registry import action_codes, action_label, target_types
from .rendering import REQUEST_TARGET, decorate_for_log
from .selectors import audit_log_read

PAGE_SIZE = 50


def _require_reader(user) -> None:
    if not can_read_audit_log(user):
        raise PermissionDenied


def _object_types() -> dict[str, str]:
    """label_lower → verbose name for every Qiyue model (the audit log's target types)."""
    return {m._meta.label_lower: capfirst(m._meta.verbose_name)
            for m in apps.get_models() if m.__module__.startswith("qiyue.")}


def _type_choices(object_types: dict[str, str]) -> list[tuple[str, str]]:
    """The "object type" filter: the models the apps' events are about (registry.register_targets) and
    requests (the security events), by name."""
    choices = [(label, object_types[label]) for label in target_types() if label in object_types]
    choices.append((REQUEST_TARGET, str(_("Request"))))
    return sorted(choices, key=lambda t: t[1])


def _action_choices() -> list[tuple[str, str]]:
    codes = action_codes()
    prefixes = sorted({code.split(".", 1)[0] for code in codes})
    choices = [(f"{p}.", _("all “%(prefix)s” actions") % {"prefix": p}) for p in prefixes]
    choices += [(code, f"{action_label(code)} ({code})") for code in codes]
    return choices


def _filter(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET, queryset=AuditEvent.objects.order_by("-seq"), request=request)


@login_required
@require_GET
def audit_list(request):
    _require_reader(request.user)
    filterset = _filter(request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else AuditEvent.objects.none()
    audit_log_read(user=request.user, filters=_read_label(request, filterset))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    object_types = _object_types()
    decorate_for_log(page.object_list, object_types)
    context = {
        "nav": "audit",
        "filter": filterset,
        "form": filterset.form,
        "valid": valid,
        "page": page,
        "events": page.object_list,
        "object_types": _type_choices(object_types),
        "action_choices": _action_choices(),
        "kinds": AuditEvent.Kind.choices,
        "outcomes": AuditEvent.Outcome.choices,
    }
    return render_page(request, "audit/list.html", "audit/_table.html", context)


def _filter_label(request, filterset: AuditEventFilter) -> str:
    used = [(name, request.GET.get(name)) for name in filterset.filters if request.GET.get(name)]
    return urlencode(used) if used else "all"


def _read_label(request, filterset: AuditEventFilter) -> str:
    """The filters of a read, and the page when past the first."""
    label = _filter_label(request, filterset)
    page = request.GET.get("page", "")
    return f"{label} page={page[:10]}" if page and page != "1" else label


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
        audit_exported_event(actor=request.user, filters=_filter_label(request, filterset))
    events = filterset.qs.order_by("seq")
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="qiyue-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
