from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiyue.core.services import audit_value

from . import events
from .models import Team, User
from .services import two_factor_reset

# Two-factor devices change only through the audited services (and a secret is never shown again):
# django-otp's own admin pages for them are removed.
for _model in (TOTPDevice, StaticDevice):
    try:
        admin.site.unregister(_model)
    except NotRegistered:
        pass


class AuditedAdmin(admin.ModelAdmin):
    """Writes made in the Django admin (admins only) land in the audit log like any other."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = {}
            if change:
                old = type(obj).objects.get(pk=obj.pk)
                before = {name: audit_value(getattr(old, name, None)) for name in form.changed_data}
            super().save_model(request, obj, form, change)
            changes = {name: [before.get(name), audit_value(getattr(obj, name, None))]
                       for name in form.changed_data if name not in ("password", "password1", "password2")}
            if {"password", "password1", "password2"} & set(form.changed_data):
                changes["password"] = ["***", "***"]
            events.account_saved_event(actor=request.user, obj=obj, created=not change, changes=changes)

    def delete_model(self, request, obj):
        with transaction.atomic():
            events.account_deleted_event(actor=request.user, obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active", "two_factor", "last_login")
    list_filter = ("role", "team", "is_active")
    actions = ["reset_two_factor"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("display_name", "first_name", "last_name", "email")}),
        ("Access", {"fields": ("role", "team", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        on = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(two_factor_on=Exists(on))

    @admin.display(boolean=True, description=_("Two-factor"), ordering="two_factor_on")
    def two_factor(self, obj):
        return obj.two_factor_on

    @admin.action(description=_("Reset two-factor authentication of the selected users"))
    def reset_two_factor(self, request, queryset):
        done = sum(two_factor_reset(actor=request.user, user=user) for user in queryset)
        self.message_user(request, ngettext(
            "Two-factor authentication reset for %(count)d user: they log in with the password, then set it up "
            "again if their role requires it.",
            "Two-factor authentication reset for %(count)d users: they log in with the password, then set it up "
            "again if their role requires it.", done) % {"count": done}, messages.SUCCESS)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                events.user_password_set_event(actor=request.user, user=User.objects.get(pk=id))
        return response


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "created_at")
