from rest_framework.routers import SimpleRouter

from .views import CalendarViewSet, ReminderRuleViewSet

router = SimpleRouter()
router.register("reminder-rules", ReminderRuleViewSet, basename="api-reminder-rule")
router.register("calendar", CalendarViewSet, basename="api-calendar")

urlpatterns = router.urls
