import datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.selectors import get_or_404

from .. import feed as ics
from .. import policies, selectors, services
from ..models import ReminderRule
from .serializers import DateOutput, DatesQuery, FeedInput, FeedOutput, RuleInput, RuleOutput, RuleUpdateInput

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied: administrators only"),
          404: OpenApiResponse(description="not_found")}
MAX_DAYS = 400
MAX_DATES = 5000


class ManagesRules(BasePermission):
    def has_permission(self, request, view) -> bool:
        return policies.can_manage_rules(request.user)


@extend_schema_view(
    list=extend_schema(summary="Reminder rules, in their order", responses={200: RuleOutput(many=True), **ERRORS}),
    retrieve=extend_schema(summary="One reminder rule", responses={200: RuleOutput, **ERRORS}),
)
class ReminderRuleViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reminder rules (administrators only): which date a rule watches (`subject`), how many days from it
    it fires (`offset_days`: negative before, 0 on the day, positive after) and whom it tells. A rule is
    switched off with `active: false`, never deleted; changing its date or offset starts it again from
    that day. A change carries the rule's `version` (409 stale_version when someone saved since)."""

    permission_classes = [IsAuthenticated, ManagesRules]
    serializer_class = output_serializer = RuleOutput
    queryset = ReminderRule.objects.none()

    def get_queryset(self):
        return selectors.rules()

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(summary="Add a reminder rule", request=RuleInput, responses={201: RuleOutput, **ERRORS})
    def create(self, request):
        data = self.validated(RuleInput, request.data)
        rule = services.rule_save(actor=request.user, rule=None, data=data)
        return Response(self.output(rule), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a reminder rule (the fields sent, with `version`)", request=RuleUpdateInput,
                   responses={200: RuleOutput, 409: OpenApiResponse(description="stale_version"), **ERRORS})
    def partial_update(self, request, pk=None):
        rule = self.get_object()
        data = self.validated(RuleUpdateInput, request.data, partial=True)
        version = require_version(data)
        rule = services.rule_save(actor=request.user, rule=rule, data=data, expected_version=version)
        return Response(self.output(rule))


def _feed_data(request, feed) -> dict:
    if feed is None:
        return {"exists": False, "subjects": [], "url": "", "time_zone": "", "created_at": None, "reset_at": None,
                "last_read_at": None}
    return {"exists": True, "subjects": list(ics.feed_subjects(feed)), "url": ics.address(request, feed),
            "time_zone": ics.time_zone_of(feed), "created_at": feed.created_at, "reset_at": feed.reset_at,
            "last_read_at": feed.last_read_at}


class CalendarViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """The signed-in user's dates (expiries, notice deadlines, installments due, obligations due) and
    their calendar feed: an iCalendar address to subscribe to in Outlook, Apple or Google Calendar."""

    permission_classes = [IsAuthenticated]
    serializer_class = output_serializer = DateOutput
    pagination_class = None
    queryset = ReminderRule.objects.none()  # no model of its own: dates are read by selectors

    @extend_schema(summary="The dates in a range that the user may see: their own by default",
                   parameters=[DatesQuery], responses={200: DateOutput(many=True), **ERRORS})
    @action(detail=False, methods=["get"], url_path="dates", url_name="dates")
    def dates(self, request):
        query = self.validated(DatesQuery, request.query_params)
        start = query.get("start") or timezone.localdate()
        end = query.get("end") or start + datetime.timedelta(days=30)
        if end < start or (end - start).days > MAX_DAYS:
            raise ValidationError({"end": [f"Between start and {MAX_DAYS} days after it."]})
        owners, teams = selectors.choices(request.user)
        try:
            pick = selectors.whose(query["whose"], query.get("owner"), query.get("team"), owners, teams)
        except selectors.BadFilter as exc:
            raise ValidationError({str(exc) if str(exc) in ("owner", "team") else "whose": [
                "Choose one whose dates you may look at."]}) from None
        subjects = tuple(query.get("subject") or ()) or None
        entries = selectors.user_dates(request.user, start, end, whose=pick, limit=MAX_DATES,
                                       **({"subjects": subjects} if subjects else {}))
        return Response([{"subject": e.subject, "date": e.date, "object_type": e.object_type,
                          "object_id": e.object_id, "contract_id": e.contract_id, "number": e.number,
                          "title": e.title, "owner_id": e.owner_id, "text": e.text, "url": e.url}
                         for e in selectors.decorate(entries)])

    @extend_schema(methods=["GET"], operation_id="calendar_feed", summary="The user's calendar feed address",
                   responses={200: FeedOutput})
    @extend_schema(methods=["PUT"], operation_id="calendar_feed_update",
                   summary="Set the time zone of the user's calendar feed and the kinds of date it holds (creating the feed if needed)",
                   request=FeedInput, responses={200: FeedOutput, **ERRORS})
    @action(detail=False, methods=["get", "put"], url_path="feed", url_name="feed")
    def feed(self, request):
        if request.method == "PUT":
            data = self.validated(FeedInput, request.data)
            services.feed_update(actor=request.user, time_zone=data.get("time_zone"), subjects=data.get("subjects"))
        return Response(_feed_data(request, selectors.feed_of(request.user)))

    @extend_schema(summary="Create the user's calendar feed, or give it a new secret address (the old one stops "
                           "working)", request=None, responses={200: FeedOutput})
    @action(detail=False, methods=["post"], url_path="feed/reset", url_name="feed-reset")
    def feed_reset(self, request):
        return Response(_feed_data(request, services.feed_reset(actor=request.user)))


