"""The accounts app's audit actions, their labels and one small function per event."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from qiyue.audit.models import AuditEvent
from qiyue.audit.registry import register_actions, register_change_labels, register_targets
from qiyue.audit.security import record_limited
from qiyue.audit.services import audit_record, printable
from qiyue.core import context

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
    "user.logged_in": _("signed in"),
    "user.logged_out": _("signed out"),
    "user.login_failed": _("failed to sign in"),
    "user.locked_out": _("locked the account out after failed sign-ins"),
    "user.login_refused": _("was refused sign-in to a locked-out account"),
    "delegation.created": _("set a delegate"),
    "delegation.ended": _("ended a delegation"),
})

register_change_labels({
    "delegate": _("delegate"),
    "starts_on": _("from"),
    "ends_on": _("until"),
    "reports_to": _("reports to"),
    "password": _("password"),
    "recovery_codes_left": _("recovery codes left"),
    "method": _("method"),
    "username": _("user name"),
    "logout_reason": _("why"),
})

SECURITY = AuditEvent.Kind.SECURITY
# How much of an attempted user name a failed sign-in keeps.
USERNAME_CHARS = 150
register_targets("accounts.user", "accounts.team")


def _user_target(username: str) -> tuple[str, str, str]:
    """A user named by what someone typed (no query: the account may not even exist)."""
    return (settings.AUTH_USER_MODEL.lower(), "*", printable(username)[:USERNAME_CHARS])


def _failures(request) -> int | None:
    return getattr(request, "axes_failures_since_start", None)


def _refused_while_locked(request) -> bool:
    """Whether axes refused this sign-in because the account was already locked out. (axes' own
    user_login_failed receiver runs first: axes is installed before this app.) By default axes counts
    such an attempt as one more failure past the limit; with AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    off it counts none and flags the request instead."""
    failures = _failures(request)
    if failures is None:
        return bool(getattr(request, "axes_locked_out", False))
    return failures > settings.AXES_FAILURE_LIMIT


def user_logged_in_event(sender, request, user, **kwargs):
    """The user_logged_in signal: a successful sign-in (the UI, the admin site)."""
    return audit_record(actor=user, action="user.logged_in", target=user, kind=SECURITY)


def user_logged_out_event(sender, request, user, **kwargs):
    """The user_logged_out signal: a sign-out, or the end of a session the timeout closed."""
    if user is None or not user.is_authenticated:
        return None
    reason = getattr(request, "logout_reason", None)
    return audit_record(actor=user, action="user.logged_out", target=user, kind=SECURITY,
                        changes={"logout_reason": reason} if reason else None)


def user_login_failed_event(sender, credentials, request=None, **kwargs):
    """The user_login_failed signal: a wrong user name or password (never the password; Django has
    already masked it). An attempt at an account axes has locked out is recorded as a refusal by
    `user_locked_out_event` instead. Rate-limited per user name and client address."""
    if request is not None and _refused_while_locked(request):
        return None  # user_locked_out_event records it
    username = str(credentials.get("username", ""))
    source = f"{printable(username)[:USERNAME_CHARS]}|{context.current.get().ip or '-'}"

    def write():
        return audit_record(actor=AnonymousUser(), action="user.login_failed", target=_user_target(username),
                            kind=SECURITY, outcome=AuditEvent.Outcome.FAILED,
                            changes={"username": printable(username)[:USERNAME_CHARS]})

    return record_limited(sort="login_failed", source=source, actor=AnonymousUser(), write=write)


def user_locked_out_event(sender, request, username, ip_address, **kwargs):
    """axes' user_locked_out signal: sent when the failure that reaches the limit locks the account,
    and again for each attempt while it stays locked (recorded as refusals, rate-limited per user name)."""
    username = str(username or "")
    locking = _failures(request) == settings.AXES_FAILURE_LIMIT
    action = "user.locked_out" if locking else "user.login_refused"

    def write():
        return audit_record(actor=AnonymousUser(), action=action, target=_user_target(username), kind=SECURITY,
                            outcome=AuditEvent.Outcome.DENIED,
                            changes={"username": printable(username)[:USERNAME_CHARS]})

    if locking:
        return write()  # at most one a cool-off period per account: no limit needed
    return record_limited(sort="lockout", source=printable(username)[:USERNAME_CHARS], actor=AnonymousUser(),
                          write=write)

def team_created_event(*, actor, team, changes):
    return audit_record(actor=actor, action="team.created", target=team, changes=changes)


def user_created_event(*, actor, user, changes):
    return audit_record(actor=actor, action="user.created", target=user, changes=changes)


def user_updated_event(*, actor, user, changes):
    return audit_record(actor=actor, action="user.updated", target=user, changes=changes)


def team_updated_event(*, actor, team, changes):
    return audit_record(actor=actor, action="team.updated", target=team, changes=changes)


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
    """A wrong code at the second sign-in step (or when confirming a setup); `method` "totp" or "recovery".
    A security event with outcome failed, rate-limited per account like failed sign-ins (django-otp's
    throttle already spaces the tries out; the limit keeps a long run of them from flooding the chain)."""

    def write():
        return audit_record(actor=actor, action="two_factor.failed", target=user, kind=SECURITY,
                            outcome=AuditEvent.Outcome.FAILED, changes={"method": [None, method]})

    return record_limited(sort="two_factor_failed", source=f"user:{user.pk}", actor=actor, write=write)


def delegation_event(*, actor, delegation, action: str, changes):
    return audit_record(actor=actor, action=action, target=delegation, related=[delegation.user], changes=changes)
