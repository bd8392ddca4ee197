from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("due-soon/", views.due_soon, name="due_soon"),
    path("feed/", views.feed_settings, name="feed"),
    path("feed/<str:token>.ics", views.feed_ics, name="feed_ics"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule"),
    path("types/", views.type_schedules, name="types"),
]
