from rest_framework import permissions as drf_permissions
from rest_framework import viewsets

from ..filters import AuditEventFilter
from ..models import AuditEvent
from ..policies import can_read_audit_log
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
