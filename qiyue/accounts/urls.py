from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/recovery-codes/", views.two_factor_codes, name="two_factor_codes"),
    path("account/two-factor/recovery-codes/new/", views.two_factor_regenerate, name="two_factor_regenerate"),
    path("account/two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
]
