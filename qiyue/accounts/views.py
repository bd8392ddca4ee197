"""Log-in with its second step, and the user's own two-factor page (setup, recovery codes, turning
it off)."""

import io
import time
from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.html import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from qiyue.core.errors import ApplicationError
from qiyue.core.htmx import form_error

from . import forms, selectors, services
from .errors import AccountErrorCode
from .policies import requires_two_factor

PENDING_KEY = "qiyue_2fa_pending"
CODES_KEY = "qiyue_2fa_new_codes"
FEW_RECOVERY_CODES = 3


def _refused(form, exc, *, clear=("code",)) -> int:
    """A service's error on the form (403/404 become those pages), its fields marked invalid, and the
    codes typed emptied: a code is never worth correcting, only typing anew. Returns the status."""
    status = form_error(form, exc)
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["class"] = form.fields[name].widget.attrs.get("class", "") + " is-invalid"
    form.data = form.data.copy()
    for name in clear:
        form.data[form.add_prefix(name)] = ""
    return status


# The log-in ---------------------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    """The password step. A user with two-factor sign-in on is not logged in yet: the session only
    notes who passed the password (for QIYUE_2FA_PENDING_SECONDS) and the second step finishes."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not selectors.two_factor_enabled(user=user):
            return super().form_valid(form)
        session = self.request.session
        session.cycle_key()
        session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": int(time.time()),
                                "next": self.get_success_url()}
        return redirect("login_verify")


def _pending(request):
    """(user, pending state) of a log-in waiting for its code, or (None, None)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, None
    if int(time.time()) - int(data.get("at", 0)) > settings.QIYUE_2FA_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
    return user, data


@sensitive_post_parameters("code")
@never_cache
def login_verify(request):
    """The second step: a code from the authenticator app, or a recovery code."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    user, data = _pending(request)
    if user is None:
        messages.info(request, _("Log in with your password first."))
        return redirect("login")
    credentials = {"username": user.get_username()}
    use_recovery = request.POST.get("method") == "recovery" or request.GET.get("method") == "recovery"
    form_class = forms.RecoveryStepForm if use_recovery else forms.SecondStepForm
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_KEY, None)
            return get_lockout_response(request, None, credentials)
        if not form.is_valid():
            status = 400
        else:
            try:
                device = services.two_factor_verify(user=user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                status = _refused(form, exc)
                if exc.code == AccountErrorCode.INVALID_CODE:
                    # Counted by axes like a wrong password: enough of them lock the account.
                    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
                    if getattr(request, "axes_locked_out", False):
                        request.session.pop(PENDING_KEY, None)
            else:
                request.session.pop(PENDING_KEY, None)
                auth_login(request, user, backend=data["backend"])
                otp_login(request, device)
                if isinstance(device, StaticDevice):
                    left = device.token_set.count()
                    level = messages.WARNING if left <= FEW_RECOVERY_CODES else messages.INFO
                    messages.add_message(request, level, ngettext(
                        "You used a recovery code; %(left)s is left. Generate new ones on your two-factor page.",
                        "You used a recovery code; %(left)s are left. Generate new ones on your two-factor page.",
                        left) % {"left": left})
                return redirect(data.get("next") or settings.LOGIN_REDIRECT_URL)
    else:
        form = form_class()
    return render(request, "registration/login_verify.html",
                  {"form": form, "use_recovery": use_recovery, "pending_user": user}, status=status)


# The user's two-factor page -----------------------------------------------------------------------

def qr_svg(data: str) -> str:
    """`data` as an inline SVG QR code: a path and presentation attributes, no style attribute (the
    CSP allows no inline style)."""
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", xmldecl=False, svgns=True, scale=1, border=4,
                                     omitsize=True, dark="#000", light="#fff", svgclass="twofa-qr",
                                     lineclass=None)
    return out.getvalue().decode()


def grouped_secret(device) -> str:
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _page(request, *, regenerate_form=None, disable_form=None, status=200):
    user = request.user
    device = selectors.two_factor_device(user=user)
    return render(request, "accounts/two_factor.html", {
        "nav": "two_factor",
        "device": device,
        "codes_left": selectors.recovery_codes_left(user=user) if device else 0,
        "required": requires_two_factor(user),
        "regenerate_form": regenerate_form or forms.RegenerateCodesForm(prefix="regen"),
        "disable_form": disable_form or forms.DisableForm(prefix="off"),
    }, status=status)


@login_required
@never_cache
def two_factor(request):
    return _page(request)


@login_required
@never_cache
@sensitive_post_parameters("code")
def two_factor_setup(request):
    """Scan the QR code (or type the secret), then confirm with a code from the app."""
    if selectors.two_factor_enabled(user=request.user):
        return redirect("two_factor")
    device = services.two_factor_enrolment_start(actor=request.user)
    status = 200
    if request.method == "POST":
        form = forms.ConfirmSetupForm(request.POST)
        if form.is_valid():
            try:
                codes = services.two_factor_confirm(actor=request.user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                status = _refused(form, exc)
            else:
                request.session.cycle_key()  # the session gains a factor: a new id
                otp_login(request, selectors.two_factor_device(user=request.user))
                request.session[CODES_KEY] = codes
                messages.success(request, _("Two-factor authentication is on."))
                return redirect("two_factor_codes")
        else:
            status = 400
    else:
        form = forms.ConfirmSetupForm()
    return render(request, "accounts/two_factor_setup.html", {
        "nav": "two_factor",
        "form": form,
        "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308 - generated here from our own data
        "secret": grouped_secret(device),
        "required": requires_two_factor(request.user),
    }, status=status)


@login_required
@never_cache
def two_factor_codes(request):
    """The new recovery codes, shown once (they are not kept anywhere the page could show them again)."""
    codes = request.session.pop(CODES_KEY, None)
    if not codes:
        return redirect("two_factor")
    return render(request, "accounts/two_factor_codes.html", {
        "nav": "two_factor", "codes": codes, "download": "\n".join(codes) + "\n"})


@login_required
@require_POST
@sensitive_post_parameters("regen-code", "regen-password")
def two_factor_regenerate(request):
    form = forms.RegenerateCodesForm(request.POST, prefix="regen")
    if not form.is_valid():
        return _page(request, regenerate_form=form, status=400)
    try:
        codes = services.recovery_codes_regenerate(actor=request.user, code=form.cleaned_data["code"],
                                                   password=form.cleaned_data["password"])
    except ApplicationError as exc:
        return _page(request, regenerate_form=form, status=_refused(form, exc, clear=("code", "password")))
    request.session[CODES_KEY] = codes
    messages.success(request, _("New recovery codes: the old ones no longer work."))
    return redirect("two_factor_codes")


@login_required
@require_POST
@sensitive_post_parameters("off-code", "off-password")
def two_factor_disable(request):
    form = forms.DisableForm(request.POST, prefix="off")
    if not form.is_valid():
        return _page(request, disable_form=form, status=400)
    try:
        services.two_factor_disable(actor=request.user, password=form.cleaned_data["password"],
                                    code=form.cleaned_data["code"])
    except ApplicationError as exc:
        return _page(request, disable_form=form, status=_refused(form, exc, clear=("code", "password")))
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("two_factor")
