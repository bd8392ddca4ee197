from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qiyue.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.core import checks

        from . import events  # (declares this app's audit actions)

        checks.register(check_two_factor_roles, checks.Tags.security)
        user_logged_in.connect(events.user_logged_in_event, dispatch_uid="qiyue_audit_logged_in")
        user_logged_out.connect(events.user_logged_out_event, dispatch_uid="qiyue_audit_logged_out")
        user_login_failed.connect(events.user_login_failed_event, dispatch_uid="qiyue_audit_login_failed")
        user_locked_out.connect(events.user_locked_out_event, dispatch_uid="qiyue_audit_locked_out")


def check_two_factor_roles(app_configs, **kwargs):
    """QIYUE_2FA_REQUIRED_ROLES names roles that exist: a typo would silently require nothing."""
    from django.conf import settings
    from django.core import checks

    from qiyue.core.roles import Role

    unknown = sorted(set(settings.QIYUE_2FA_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [checks.Error(f"QIYUE_2FA_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}",
                         hint=f"Roles are: {', '.join(Role.values)}.", id="accounts.E001")]
