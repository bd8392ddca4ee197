from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("export/", views.contract_export, name="export"),
    path("totals/", views.contract_totals, name="totals"),
    path("new/", views.contract_create, name="create"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_update, name="update"),
    path("<int:pk>/transitions/<slug:name>/", views.contract_transition, name="transition"),
]
