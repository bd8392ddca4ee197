from django.urls import path

from . import amendment_views, views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("export/", views.contract_export, name="export"),
    path("totals/", views.contract_totals, name="totals"),
    path("views/", views.view_save, name="view_save"),
    path("views/<int:pk>/delete/", views.view_delete, name="view_delete"),
    path("columns/", views.columns_save, name="columns"),
    path("new/", views.contract_create, name="create"),
    path("framework-agreements/", views.parent_options, name="parent_options"),
    path("customers/", views.customer_options, name="customer_options"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_update, name="update"),
    path("<int:pk>/transitions/<slug:name>/", views.contract_transition, name="transition"),
    path("<int:pk>/renew/", views.contract_renew, name="renew"),
    path("<int:pk>/amendments/new/", amendment_views.amendment_create, name="amendment_create"),
    path("amendments/<int:pk>/submit/", amendment_views.amendment_submit, name="amendment_submit"),
    path("amendments/<int:pk>/sign/", amendment_views.amendment_sign, name="amendment_sign"),
    path("amendments/<int:pk>/cancel/", amendment_views.amendment_cancel, name="amendment_cancel"),
    path("<int:pk>/versions/compare/", amendment_views.version_compare, name="version_compare"),
]
