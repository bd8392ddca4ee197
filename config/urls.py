from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own log-in form would skip the second step: everyone logs in through ours.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("qiyue.accounts.urls")),
    path("", include("qiyue.reports.urls")),
    path("customers/", include("qiyue.customers.urls")),
    path("contracts/", include("qiyue.contracts.urls")),
    path("audit/", include("qiyue.audit.urls")),
    path("search/", include("qiyue.search.urls")),
    path("documents/", include("qiyue.documents.urls")),
    path("archive/", include("qiyue.archive.urls")),
    path("notifications/", include("qiyue.notifications.urls")),
    path("workflow/", include("qiyue.workflow.urls")),
    path("finance/", include("qiyue.finance.urls")),
    path("reminders/", include("qiyue.reminders.urls")),
    path("manage/", include("qiyue.accounts.manage_urls")),
    path("manage/contract-types/", include("qiyue.contracts.type_urls")),
]

handler404 = "qiyue.core.views.not_found"
handler500 = "qiyue.core.views.server_error"
