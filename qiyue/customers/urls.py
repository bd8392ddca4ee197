from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/timeline/", views.customer_timeline_panel, name="timeline"),
    path("<int:pk>/edit/", views.customer_update, name="update"),
    path("<int:pk>/contacts/new/", views.ContactCreate.as_view(), name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.ContactUpdate.as_view(), name="contact_update"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/communications/new/", views.CommunicationCreate.as_view(), name="communication_create"),
]
