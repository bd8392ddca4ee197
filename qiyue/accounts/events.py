"""The accounts app's audit actions, their labels and one small function per event."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_change_labels
from qiyue.audit.services import audit_record

ACTIONS = register_actions({
    "team.created": _("created the team"),
    "team.updated": _("updated the team"),
    "team.deleted": _("deleted the team"),
    "user.created": _("created the user"),
    "user.updated": _("updated the user"),
    "user.deleted": _("deleted the user"),
    "user.password_set": _("set the password"),
    "user.token_issued": _("issued an API token"),
    "two_factor.enrolment_started": _("started setting up two-factor authentication"),
    "two_factor.enabled": _("turned on two-factor authentication"),
    "two_factor.recovery_codes_regenerated": _("generated new recovery codes"),
    "two_factor.recovery_code_used": _("signed in with a recovery code"),
    "two_factor.disabled": _("turned off two-factor authentication"),
    "two_factor.reset": _("reset two-factor authentication"),
    "two_factor.failed": _("entered a wrong sign-in code"),
})


register_change_labels({
    "password": _("password"),
    "recovery_codes_left": _("recovery codes left"),
    "method": _("method"),
})


def team_created_event(*, actor, team, changes):
    return audit_record(actor=actor, action="team.created", target=team, changes=changes)


def user_created_event(*, actor, user, changes):
    return audit_record(actor=actor, action="user.created", target=user, changes=changes)


def user_password_set_event(*, actor, user):
    return audit_record(actor=actor, action="user.password_set", target=user)


def user_token_issued_event(*, actor, user):
    return audit_record(actor=actor, action="user.token_issued", target=user)


def account_saved_event(*, actor, obj, created: bool, changes):
    """A user or team saved in the admin site."""
    verb = "created" if created else "updated"
    return audit_record(actor=actor, action=f"{obj._meta.model_name}.{verb}", target=obj, changes=changes)


def account_deleted_event(*, actor, obj):
    return audit_record(actor=actor, action=f"{obj._meta.model_name}.deleted", target=obj)



# Two-factor events: about the user (the target); they never carry a secret or a code.

def two_factor_enrolment_started_event(*, actor, user):
    return audit_record(actor=actor, action="two_factor.enrolment_started", target=user)


def two_factor_enabled_event(*, actor, user, recovery_codes: int):
    return audit_record(actor=actor, action="two_factor.enabled", target=user,
                        changes={"recovery_codes_left": [None, recovery_codes]})


def two_factor_recovery_codes_regenerated_event(*, actor, user, before: int, after: int):
    return audit_record(actor=actor, action="two_factor.recovery_codes_regenerated", target=user,
                        changes={"recovery_codes_left": [before, after]})


def two_factor_recovery_code_used_event(*, actor, user, left: int):
    return audit_record(actor=actor, action="two_factor.recovery_code_used", target=user,
                        changes={"recovery_codes_left": [left + 1, left]})


def two_factor_disabled_event(*, actor, user):
    return audit_record(actor=actor, action="two_factor.disabled", target=user)


def two_factor_reset_event(*, actor, user):
    return audit_record(actor=actor, action="two_factor.reset", target=user)


def two_factor_failed_event(*, actor, user, method: str):
    """A wrong code at the second sign-in step (or when confirming a setup); `method` "totp" or "recovery"."""
    return audit_record(actor=actor, action="two_factor.failed", target=user, changes={"method": [None, method]})
