from django.urls import path

from . import views

app_name = "workflow"

urlpatterns = [
    path("contracts/<int:pk>/prereview/", views.prereview_run, name="prereview_run"),
]
