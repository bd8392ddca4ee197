from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.core.errors import ApplicationError
from qiyue.core.htmx import form_error, paginate, render_page

from . import selectors, services
from .forms import NotificationSettingsForm


@login_required
def notification_list(request):
    unread_only = request.GET.get("show") != "all"
    page = paginate(request, selectors.notifications_of(user=request.user, unread_only=unread_only))
    page.object_list = selectors.with_text(page.object_list)
    return render_page(request, "notifications/list.html", "notifications/_list.html",
                       {"nav": "notifications", "page": page, "unread_only": unread_only})


@login_required
@require_POST
def notification_open(request, pk):
    """Mark it read and go where it points (a path of this site only)."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.url
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = reverse("notifications:list")
    return redirect(target)


@login_required
@require_POST
def notification_read_all(request):
    count = services.notification_mark_all_read(actor=request.user)
    messages.success(request, ngettext("Marked %(count)s notification read.", "Marked %(count)s notifications read.",
                                       count) % {"count": count})
    return redirect(reverse("notifications:list"))


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    user = request.user
    initial = {"email_kinds": [kind for kind, email in services.email_choices(user).items() if email],
               "app_kinds": [kind for kind, on in services.app_choices(user).items() if on],
               "daily_digest": services.takes_digest(user), "language": user.language}
    form = NotificationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_settings_update(actor=user, email_kinds=form.cleaned_data["email_kinds"],
                                                  app_kinds=form.cleaned_data["app_kinds"],
                                                  daily_digest=form.cleaned_data["daily_digest"],
                                                  language=form.cleaned_data["language"])
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect(reverse("notifications:settings"))
    return render(request, "notifications/settings.html",
                  {"nav": "notifications", "form": form, "has_email": bool(user.email)},
                  status=400 if form.errors else 200)
