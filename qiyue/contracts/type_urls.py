from django.urls import path

from . import type_views as views

app_name = "contract_types"

urlpatterns = [
    path("", views.type_list, name="list"),
    path("<int:pk>/", views.type_detail, name="detail"),
    path("<int:pk>/fields/<int:field_pk>/", views.field_detail, name="field"),
]
