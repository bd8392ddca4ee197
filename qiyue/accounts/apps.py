from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qiyue.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import events  # (declares this app's audit actions)

        user_logged_in.connect(events.user_logged_in_event, dispatch_uid="qiyue_audit_logged_in")
        user_logged_out.connect(events.user_logged_out_event, dispatch_uid="qiyue_audit_logged_out")
        user_login_failed.connect(events.user_login_failed_event, dispatch_uid="qiyue_audit_login_failed")
        user_locked_out.connect(events.user_locked_out_event, dispatch_uid="qiyue_audit_locked_out")
