from django.urls import path

from .views import ArchiveFacetsView

urlpatterns = [
    path("archive/facets/", ArchiveFacetsView.as_view(), name="api-archive-facets"),
]
