from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qiyue.core.api import ServiceViewMixin

from .. import selectors, services
from ..kinds import kinds
from ..models import Notification
from .serializers import (
    NotificationOutput,
    NotificationSettingsInput,
    NotificationSettingsOutput,
    ReadAllOutput,
)

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          404: OpenApiResponse(description="not_found (another user's notification too)")}


def _settings_of(user) -> dict:
    email, app = services.email_choices(user), services.app_choices(user)
    return {"kinds": [{"kind": k.key, "label": str(k.label), "email": email[k.key], "in_app": app[k.key],
                       "digest": k.digest} for k in kinds()],
            "daily_digest": services.takes_digest(user), "language": user.language}


@extend_schema_view(
    list=extend_schema(summary="The user's own notifications, newest first", parameters=[OpenApiParameter(
        "unread", bool, description="true: only the unread ones")]),
    retrieve=extend_schema(summary="One of the user's own notifications", responses={200: NotificationOutput, **ERRORS}),
)
class NotificationViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's notifications (every user sees only their own): what happened, in the
    language of the request, and the path of the page it is about. Mark them read one by one or all."""

    serializer_class = output_serializer = NotificationOutput
    queryset = Notification.objects.none()

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true")
        return selectors.notifications_of(user=self.request.user, unread_only=unread)

    def get_object(self):
        return selectors.notification_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(operation_id="notifications_read", summary="Mark the notification read", request=None,
                   responses={200: NotificationOutput, **ERRORS})
    @action(detail=True, methods=["post"], url_path="read", url_name="read")
    def read(self, request, pk=None):
        notification = services.notification_mark_read(actor=request.user, notification=self.get_object())
        return Response(self.output(notification))

    @extend_schema(operation_id="notifications_read_all", summary="Mark all of the user's notifications read",
                   request=None, responses={200: ReadAllOutput})
    @action(detail=False, methods=["post"], url_path="read-all", url_name="read-all")
    def read_all(self, request):
        return Response({"marked": services.notification_mark_all_read(actor=request.user)})

    @extend_schema(methods=["GET"], operation_id="notifications_settings",
                   summary="How the user gets each kind of notification (in the app, by e-mail, in the daily digest) and the e-mail language",
                   responses={200: NotificationSettingsOutput})
    @extend_schema(methods=["PUT"], operation_id="notifications_settings_update",
                   summary="Choose the kinds to get by e-mail and in the app, the daily digest and the e-mail language",
                   request=NotificationSettingsInput, responses={200: NotificationSettingsOutput, **ERRORS})
    @action(detail=False, methods=["get", "put"], url_path="settings", url_name="settings")
    def email_settings(self, request):
        if request.method == "PUT":
            data = self.validated(NotificationSettingsInput, request.data)
            services.notification_settings_update(actor=request.user, email_kinds=data["email_kinds"],
                                                  app_kinds=data.get("app_kinds"),
                                                  daily_digest=data.get("daily_digest"),
                                                  language=data.get("language"))
        return Response(_settings_of(request.user))
