from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from qiyue.core.api_docs import ApiDocsPage

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsPage.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include("qiyue.accounts.api.urls")),
    path("v1/", include("qiyue.customers.api.urls")),
    path("v1/", include("qiyue.contracts.api.urls")),
    path("v1/", include("qiyue.audit.api.urls")),
    path("v1/", include("qiyue.search.api.urls")),
    path("v1/", include("qiyue.documents.api.urls")),
    path("v1/", include("qiyue.archive.api.urls")),
    path("v1/", include("qiyue.notifications.api.urls")),
    path("v1/", include("qiyue.workflow.api.urls")),
    path("v1/", include("qiyue.finance.api.urls")),
    path("v1/", include("qiyue.reminders.api.urls")),
]
