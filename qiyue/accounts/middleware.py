"""The gate of two-factor sign-in, after django-otp's OTPMiddleware has said which device (if any)
verified this session.

A user with two-factor sign-in on is logged in only after the second step (see `views.LoginView`), so a
signed-in session without a verified device belongs to a user without an authenticator, with two
exceptions this middleware handles on every request, pages and session-authenticated API calls alike:

- the user turned two-factor on in another session (or logged in through a way that skipped the
  second step): the session ends and the user logs in again, with a code;
- the user's role requires two-factor sign-in (QIYUE_2FA_REQUIRED_ROLES) and they have no authenticator
  yet: nothing but the setup page (and logging out, switching the language) answers until it is done.

API clients authenticating with a token (no session) are not gated: a token is a credential of its
own, issued by an operator (`qiyue token`), see docs/security.md."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from qiyue.core.api import error_body
from qiyue.core.errors import ErrorCode

from .errors import AccountErrorCode
from .policies import requires_two_factor
from .selectors import two_factor_enabled


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _away(request, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class TwoFactorMiddleware:
    # What a user who must still set up two-factor sign-in may reach (besides static files).
    SETUP_ALLOWED = ("two_factor_setup", "logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.gate(request) or self.get_response(request)

    def gate(self, request) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        if two_factor_enabled(user=user):
            # Signed in without the second step: not a session we keep.
            logout(request)
            if _is_api(request):
                return JsonResponse(error_body(ErrorCode.NOT_AUTHENTICATED,
                                               _("Log in again with your two-factor code.")), status=401)
            messages.info(request, _("Two-factor authentication is on for your account: log in again with "
                                     "your password and a code."))
            return _away(request, redirect_to_login(request.get_full_path()).url)
        if not requires_two_factor(user):
            return None
        request.two_factor_setup_required = True
        if request.path in {reverse(name) for name in self.SETUP_ALLOWED}:
            return None
        message = _("Your role requires two-factor authentication. Set it up to continue.")
        if _is_api(request):
            return JsonResponse(error_body(AccountErrorCode.TWO_FACTOR_REQUIRED, message), status=403)
        return _away(request, reverse("two_factor_setup"))
