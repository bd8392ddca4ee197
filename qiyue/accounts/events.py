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
})


register_change_labels({"password": _("password")})


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
