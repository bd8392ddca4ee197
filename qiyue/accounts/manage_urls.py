from django.urls import path

from . import manage_views as views

app_name = "manage"

urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user"),
    path("users/<int:pk>/password/", views.user_reset_password, name="user_password"),
    path("users/<int:pk>/two-factor/", views.user_reset_two_factor, name="user_two_factor"),
    path("teams/", views.TeamList.as_view(), name="teams"),
    path("teams/<int:pk>/", views.TeamEdit.as_view(), name="team"),
]
