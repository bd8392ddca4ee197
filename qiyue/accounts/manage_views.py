"""Administration in the app (admins only): users (create, edit role and team, deactivate, reset the
password or two-factor sign-in) and teams with their members. Every change goes through a service and
lands in the audit log; the Django admin stays for superusers' rare repairs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qiyue.core.errors import service_errors
from qiyue.core.htmx import ServiceFormView, form_error, paginate, style_form
from qiyue.core.roles import Role
from qiyue.core.selectors import get_or_404

from . import services
from .forms import TeamForm, UserCreateForm, UserUpdateForm
from .models import Team, User
from .policies import can_manage_users
from .selectors import two_factor_enabled

QUERY_MAX = 100


def _require(request):
    if not can_manage_users(request.user):
        raise PermissionDenied


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"nav": "manage", **context}, status=status)


@login_required
@require_GET
def index(request):
    _require(request)
    return _page(request, "manage/index.html", {
        "user_count": User.objects.filter(is_active=True).count(),
        "inactive_count": User.objects.filter(is_active=False).count(),
        "team_count": Team.objects.count(),
    })


@login_required
@require_GET
def user_list(request):
    _require(request)
    users = User.objects.select_related("team").order_by("username")
    q = request.GET.get("q", "").strip()[:QUERY_MAX]
    if q:
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q))
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    team = request.GET.get("team", "")
    if team.isdigit() and len(team) < 12:
        users = users.filter(team_id=int(team))
    active = request.GET.get("active", "")
    if active in ("1", "0"):
        users = users.filter(is_active=active == "1")
    return _page(request, "manage/users.html", {
        "page": paginate(request, users, per_page=50), "q": q, "role": role, "team": team, "active": active,
        "roles": Role.choices, "teams": Team.objects.order_by("name"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    _require(request)
    form = UserCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user, temporary = services.user_admin_create(actor=request.user, data=form.cleaned_data)
            except service_errors() as exc:
                status = form_error(form, exc)
            else:
                if temporary:  # shown once, on this answer only: never in a message or the address
                    return _page(request, "manage/password.html", {"subject": user, "password": temporary,
                                                                  "created": True})
                messages.success(request, _("User %(name)s created.") % {"name": user.username})
                return redirect("manage:user", pk=user.pk)
    return _page(request, "manage/user_form.html", {"form": form}, status=status)


def _user_context(user, form) -> dict:
    return {"form": form, "subject": user, "two_factor_on": two_factor_enabled(user=user)}


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk):
    _require(request)
    subject = get_or_404(User.objects.select_related("team"), pk)
    seen = services.fingerprint(subject, services.EDITABLE_USER_FIELDS)
    if request.method == "GET":
        form = UserUpdateForm(instance=subject, initial={"seen": seen})
        return _page(request, "manage/user_form.html", _user_context(subject, form))
    form = UserUpdateForm(request.POST, instance=User.objects.get(pk=subject.pk))
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_USER_FIELDS}
        try:
            services.user_update(actor=request.user, user=subject, data=data, seen=form.cleaned_data["seen"])
        except service_errors() as exc:
            status = form_error(form, exc)
            if getattr(exc, "code", "") == "stale_version":  # show what is there now, keep the error
                fresh = User.objects.select_related("team").get(pk=subject.pk)
                fresh_form = UserUpdateForm(instance=fresh, initial={
                    "seen": services.fingerprint(fresh, services.EDITABLE_USER_FIELDS)})
                style_form(fresh_form)
                fresh_form.stale_error = exc.message
                return _page(request, "manage/user_form.html", _user_context(fresh, fresh_form), status=409)
            return _page(request, "manage/user_form.html", _user_context(subject, form), status=status)
        messages.success(request, _("User %(name)s saved.") % {"name": subject.username})
        return redirect("manage:user", pk=subject.pk)
    return _page(request, "manage/user_form.html", _user_context(subject, form), status=400)


@login_required
@require_POST
def user_reset_password(request, pk):
    _require(request)
    subject = get_or_404(User.objects.all(), pk)
    password = services.user_reset_password(actor=request.user, user=subject)
    return _page(request, "manage/password.html", {"subject": subject, "password": password})


@login_required
@require_POST
def user_reset_two_factor(request, pk):
    _require(request)
    subject = get_or_404(User.objects.all(), pk)
    if services.two_factor_reset(actor=request.user, user=subject):
        messages.success(request, _("Two-factor sign-in of %(name)s reset: they sign in with the password, then set "
                                    "it up again if their role requires it.") % {"name": subject.username})
    else:
        messages.info(request, _("%(name)s had no two-factor sign-in to reset.") % {"name": subject.username})
    return redirect("manage:user", pk=subject.pk)


def _teams():
    managers = Count("members", filter=Q(members__role=Role.MANAGER, members__is_active=True))
    return (Team.objects.annotate(member_count=Count("members", filter=Q(members__is_active=True)),
                                  manager_count=managers).order_by("name"))


class TeamList(ServiceFormView):
    """The teams with their member and manager counts, and the form to add one."""

    form_class = TeamForm
    template_name = "manage/teams.html"
    success_message = gettext_lazy("Team created.")

    def allowed(self):
        return can_manage_users(self.request.user)

    def save(self, form):
        services.team_create(actor=self.request.user, name=form.cleaned_data["name"])

    def redirect_url(self):
        return reverse("manage:teams")

    def page_context(self, form):
        return {"nav": "manage", "teams": _teams(), "form": form}


class TeamEdit(ServiceFormView):
    """A team's name and its members (their managers marked)."""

    form_class = TeamForm
    template_name = "manage/team_form.html"
    success_message = gettext_lazy("Team saved.")

    def load(self):
        if not can_manage_users(self.request.user):
            raise PermissionDenied  # before telling whether the team exists
        self.team = get_or_404(Team.objects.all(), self.kwargs["pk"])

    def allowed(self):
        return can_manage_users(self.request.user)

    def form_kwargs(self):
        # The form writes into its instance while validating; the service updates the loaded one.
        return {"instance": Team(pk=self.team.pk, name=self.team.name),
                "initial": {"seen": services.fingerprint(self.team, ("name",))}}

    def save(self, form):
        services.team_rename(actor=self.request.user, team=self.team, name=form.cleaned_data["name"],
                             seen=form.cleaned_data["seen"])

    def redirect_url(self):
        return reverse("manage:team", args=[self.team.pk])

    def page_context(self, form):
        members = self.team.members.order_by("-is_active", "role", "username")
        return {"nav": "manage", "team": self.team, "form": form, "members": members}
