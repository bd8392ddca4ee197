from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qiyue.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.core import checks

        from . import events  # noqa: F401  (declares this app's audit actions)

        checks.register(check_two_factor_roles, checks.Tags.security)


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
