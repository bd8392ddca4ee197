from django.urls import path

from . import type_views as views

app_name = "contract_types"

urlpatterns = [
    path("", views.TypeList.as_view(), name="list"),
    path("<int:pk>/", views.type_detail, name="detail"),
    path("<int:pk>/fields/<int:field_pk>/", views.FieldDetail.as_view(), name="field"),
]
