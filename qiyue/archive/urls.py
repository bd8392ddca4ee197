from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("", views.archive_index, name="index"),
    path("retention/", views.RetentionPolicies.as_view(), name="policies"),
    path("contracts/<int:pk>/legal-hold/", views.legal_hold, name="legal_hold"),
    path("contracts/<int:pk>/delete/", views.contract_delete, name="delete"),
    path("documents/<int:doc_id>/compare/", views.document_compare, name="compare"),
]
