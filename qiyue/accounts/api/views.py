from rest_framework import viewsets

from ..models import User
from ..selectors import user_list
from .serializers import UserOutput


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """The directory of colleagues (read-only; users are managed by admins in the UI and CLI)."""

    serializer_class = UserOutput
    filterset_fields = ["role", "team", "is_active"]
    queryset = User.objects.none()  # the real rows come from the selector

    def get_queryset(self):
        return user_list(user=self.request.user)
