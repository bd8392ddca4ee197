from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("contracts/<int:pk>/", views.contract_panel, name="contract_panel"),
    path("contracts/<int:pk>/upload/", views.contract_upload, name="contract_upload"),
    path("customers/<int:pk>/", views.customer_panel, name="customer_panel"),
    path("customers/<int:pk>/upload/", views.customer_upload, name="customer_upload"),
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/versions/", views.document_add_version, name="add_version"),
    path("<int:pk>/delete/", views.document_delete, name="delete"),
    path("versions/<int:pk>/download/", views.version_download, name="download"),
    path("versions/<int:pk>/preview/", views.version_preview, name="preview"),
    path("versions/<int:pk>/preview/page/<int:number>.png", views.version_preview_page, name="preview_page"),
    path("versions/<int:pk>/preview/image/", views.version_preview_image, name="preview_image"),
    path("contracts/<int:pk>/paper/", views.paper_panel, name="paper_panel"),
    path("contracts/<int:pk>/paper/new/", views.PaperCreate.as_view(), name="paper_create"),
    path("paper/<int:pk>/lend/", views.PaperLend.as_view(), name="paper_lend"),
    path("paper-loans/<int:pk>/return/", views.PaperReturn.as_view(), name="paper_return"),
]
