from urllib.parse import urlencode

from rest_framework import permissions as drf_permissions
from rest_framework import viewsets
from rest_framework.response import Response

from ..filters import AuditEventFilter
from ..models import AuditEvent
from ..policies import can_read_audit_log
from ..selectors import audit_event_open, audit_log_read
from .serializers import AuditEventOutput


class CanReadAuditLog(drf_permissions.BasePermission):
    def has_permission(self, request, view):
        return can_read_audit_log(request.user)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, newest first: auditors and admins only (append-only, so read-only here)."""

    serializer_class = AuditEventOutput
    permission_classes = [drf_permissions.IsAuthenticated, CanReadAuditLog]
    filterset_class = AuditEventFilter
    queryset = AuditEvent.objects.order_by("-seq")

    def list(self, request, *args, **kwargs):
        # Reads of the audit log are in the audit log too (the filters and page as the label).
        used = sorted((k, v) for k, v in request.query_params.items() if k in self.filterset_class.base_filters
                      or k in ("page", "page_size"))
        audit_log_read(user=request.user, filters=urlencode(used) if used else "all")
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        event = audit_event_open(user=request.user, event=self.get_object())
        return Response(self.get_serializer(event).data)
