import datetime
import hashlib
import math
import re
import secrets
import unicodedata
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied
from qiyue.core.roles import Role
from qiyue.core.services import audit_value, field_value, model_update, snapshot

from . import events
from .errors import AccountErrorCode
from .models import Delegation, Team, User
from .policies import can_manage_users, can_reset_two_factor, can_set_delegation, requires_two_factor

USER_FIELDS = ("username", "display_name", "email", "role", "team", "is_active")


@transaction.atomic
def team_get_or_create(*, actor, name: str) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        team = Team(name=name)
        team.full_clean()
        team.save()
        events.team_created_event(actor=actor, team=team, changes=snapshot(team, ("name",)))
    return team


@transaction.atomic
def user_create(*, actor, username: str, role: str, team: Team | None = None, password: str | None = None,
                display_name: str = "", email: str = "", check_password: bool = True) -> User:
    user = User(username=username, role=role, team=team, display_name=display_name, email=email)
    if password:
        if check_password:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    events.user_created_event(actor=actor, user=user, changes=snapshot(user, USER_FIELDS))
    return user


# --- In-app administration (admins): users and teams ----------------------------------------------

EDITABLE_USER_FIELDS = ("display_name", "email", "role", "team", "reports_to", "is_active")
TEMPORARY_PASSWORD_BYTES = 12


def fingerprint(obj, fields) -> str:
    """What the edit form saw of `obj`: saving compares it with the row as it is now, so an edit made
    meanwhile by someone else is never silently overwritten."""
    values = "\x1f".join(f"{name}={audit_value(field_value(obj, name))}" for name in fields)
    return hashlib.sha256(values.encode()).hexdigest()[:32]


def _changed_meanwhile() -> ApplicationError:
    return ApplicationError(ErrorCode.STALE_VERSION, _(
        "Someone else changed this meanwhile. The page now shows their change; make yours again."))


def _require_manager(actor) -> None:
    if not can_manage_users(actor):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, _("You may not manage users."), status=403)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields={field: [message]})


@transaction.atomic
def user_admin_create(*, actor, data: dict) -> tuple[User, str]:
    """A new user from the administration pages; returns it and the temporary password made for it
    when none was given (shown once to the admin, never stored in the clear)."""
    _require_manager(actor)
    password = data.get("password") or ""
    if password:
        try:
            validate_password(password, User(username=data.get("username", ""), email=data.get("email", ""),
                                             display_name=data.get("display_name", "")))
        except ValidationError as exc:
            raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                                   fields={"password": list(exc.messages)}) from exc
    temporary = "" if password else _temporary_password()
    user = user_create(actor=actor, username=data["username"], role=data["role"], team=data.get("team"),
                       password=password or temporary, display_name=data.get("display_name", ""),
                       email=data.get("email", ""), check_password=False)
    return user, temporary


@transaction.atomic
def user_update(*, actor, user: User, data: dict, seen: str) -> User:
    """Change a user's profile, role, team or whether they may sign in. Refused when it would lock the
    last administrator out, or when the user changed since the form was shown (`seen`)."""
    _require_manager(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    if fingerprint(user, EDITABLE_USER_FIELDS) != seen:
        raise _changed_meanwhile()
    before_admin = user.role == Role.ADMIN and user.is_active
    changes = model_update(instance=user, fields=EDITABLE_USER_FIELDS, data=data)
    if not changes:
        return user
    still_admin = user.role == Role.ADMIN and user.is_active
    if "reports_to" in changes and _reports_loop(user):
        raise _invalid("reports_to", _("This would make a circle of people reporting to each other."))
    if user.pk == actor.pk and not still_admin:
        field = "is_active" if not user.is_active else "role"
        raise _invalid(field, _("You cannot take away your own administration: another administrator must."))
    if before_admin and not still_admin and not User.objects.filter(
            role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists():
        raise _invalid("role", _("This is the last active administrator: make someone else one first."))
    user.full_clean(exclude=["password"])
    user.save()
    events.user_updated_event(actor=actor, user=user, changes=changes)
    return user


def _reports_loop(user: User) -> bool:
    """Whether following `reports_to` up from `user` comes back to them."""
    seen, boss_id = {user.pk}, user.reports_to_id
    while boss_id is not None:
        if boss_id in seen:
            return True
        seen.add(boss_id)
        boss_id = User.objects.filter(pk=boss_id).values_list("reports_to_id", flat=True).first()
    return False


def _temporary_password() -> str:
    return secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)


@transaction.atomic
def user_reset_password(*, actor, user: User) -> str:
    """Give the user a new random password (for the admin to pass on; the old one stops working) and
    end their sessions."""
    _require_manager(actor)
    password = _temporary_password()
    _store_password(actor=actor, user=user, password=password)
    return password


def _unique_team_name(name: str, *, team: Team | None = None) -> str:
    name = (name or "").strip()
    others = Team.objects.filter(name__iexact=name)
    if team is not None:
        others = others.exclude(pk=team.pk)
    if others.exists():
        raise _invalid("name", _("A team of this name exists already."))
    return name


@transaction.atomic
def team_create(*, actor, name: str) -> Team:
    _require_manager(actor)
    team = Team(name=_unique_team_name(name))
    team.full_clean()
    team.save()
    events.team_created_event(actor=actor, team=team, changes=snapshot(team, ("name",)))
    return team


@transaction.atomic
def team_rename(*, actor, team: Team, name: str, seen: str) -> Team:
    _require_manager(actor)
    team = Team.objects.select_for_update().get(pk=team.pk)
    if fingerprint(team, ("name",)) != seen:
        raise _changed_meanwhile()
    name = _unique_team_name(name, team=team)
    changes = model_update(instance=team, fields=("name",), data={"name": name})
    if changes:
        team.full_clean()
        team.save()
        events.team_updated_event(actor=actor, team=team, changes=changes)
    return team


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> User:
    validate_password(password, user)
    return _store_password(actor=actor, user=user, password=password)


def _store_password(*, actor, user: User, password: str) -> User:
    user.set_password(password)
    user.save(update_fields=["password"])
    events.user_password_set_event(actor=actor, user=user)
    return user


@transaction.atomic
def token_issue(*, actor, user: User) -> Token:
    """The user's API token, created on first request (the key itself is never logged)."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        events.user_token_issued_event(actor=actor, user=user)
    return token


# Two-factor sign-in ------------------------------------------------------------------------------
# The authenticator app is a django-otp TOTPDevice (confirmed once the user typed a code from it); the
# recovery codes are the tokens of a StaticDevice, each deleted when used. Verification locks the
# device row, so one code cannot be spent twice by two requests at once; wrong codes make the device
# wait 1, 2, 4 … seconds (django-otp's throttling, kept in the database). A TOTP code is accepted once:
# the device remembers the time step of the last code it took (`last_t`).

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read off paper without doubt
TOTP_PATTERN = re.compile(r"^[0-9]{6}$")
RECOVERY_PATTERN = re.compile(rf"^[{_RECOVERY_ALPHABET}]{{{RECOVERY_CODE_LENGTH}}}$")
# An unfinished setup keeps its secret this long, so reloading the page shows the same QR code.
ENROLMENT_REUSE = timedelta(hours=1)


def normalise_code(raw: str) -> str:
    """A code as typed: full-width digits and letters (a Chinese input method) as ASCII, spaces and
    dashes dropped (codes are shown grouped), letters lower-case."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or "")).lower()


def code_method(code: str) -> str | None:
    """"totp" for six digits, "recovery" for a recovery code, None for anything else."""
    if TOTP_PATTERN.match(code):
        return "totp"
    if RECOVERY_PATTERN.match(code):
        return "recovery"
    return None


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _new_recovery_codes(device: StaticDevice) -> list[str]:
    device.token_set.all().delete()
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [format_recovery_code(code) for code in codes]


def _throttled(device) -> ApplicationError | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    wait = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds())) \
        if data and data.get("locked_until") else 1
    message = ngettext("Too many wrong codes. Wait %(seconds)s second, then try again.",
                       "Too many wrong codes. Wait %(seconds)s seconds, then try again.", wait) % {"seconds": wait}
    return ApplicationError(AccountErrorCode.CODE_THROTTLED, message, fields={"code": [message]})


def _invalid_code() -> ApplicationError:
    message = _("That code is not valid. Codes from the app change every 30 seconds and work once; "
                "each recovery code works once.")
    return ApplicationError(AccountErrorCode.INVALID_CODE, message, fields={"code": [message]})


def _devices_for_update(user) -> tuple[TOTPDevice | None, StaticDevice | None]:
    totp = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).order_by("pk").first()
    static = StaticDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).order_by("pk").first()
    return totp, static


def _check_code(*, user, code: str, totp: TOTPDevice, static: StaticDevice | None):
    """(device that accepted `code`, error): a TOTP code or a recovery code (which is used up). Runs
    inside the caller's transaction, which must commit the device's throttling even on a wrong code."""
    code = normalise_code(code)
    method = code_method(code)
    device = totp if method == "totp" else static if method == "recovery" else None
    throttled = _throttled(device or totp)
    if throttled:
        return None, throttled
    if device is not None and device.verify_token(code):
        if method == "recovery":
            events.two_factor_recovery_code_used_event(actor=user, user=user, left=device.token_set.count())
        return device, None
    if device is None:
        totp.throttle_increment()
    events.two_factor_failed_event(actor=user, user=user, method=method or "totp")
    return None, _invalid_code()


def two_factor_enrolment_start(*, actor: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for `actor` (or the one begun within the hour, so a reload
    shows the same QR code). Two-factor sign-in is on only once `two_factor_confirm` accepted a code."""
    with transaction.atomic():
        actor = User.objects.select_for_update().get(pk=actor.pk)  # one setup at a time per user
        if TOTPDevice.objects.filter(user_id=actor.pk, confirmed=True).exists():
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_ALREADY_ON,
                                   _("Two-factor authentication is already on."))
        recent = (TOTPDevice.objects.filter(user_id=actor.pk, confirmed=False,
                                            created_at__gte=timezone.now() - ENROLMENT_REUSE)
                  .order_by("-pk").first())
        if recent is not None:
            return recent
        TOTPDevice.objects.filter(user_id=actor.pk, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=actor, name="Authenticator app", confirmed=False)
        events.two_factor_enrolment_started_event(actor=actor, user=actor)
        return device


def two_factor_confirm(*, actor: User, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code from the app being set up; returns the recovery codes,
    the only time they are shown."""
    codes, error = [], None
    with transaction.atomic():
        actor = User.objects.select_for_update().get(pk=actor.pk)
        if TOTPDevice.objects.filter(user_id=actor.pk, confirmed=True).exists():
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_ALREADY_ON,
                                   _("Two-factor authentication is already on."))
        device = (TOTPDevice.objects.select_for_update().filter(user_id=actor.pk, confirmed=False)
                  .order_by("-pk").first())
        if device is None:
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_OFF,
                                   _("This setup has expired. Start again and scan the new QR code."))
        code = normalise_code(code)
        error = _throttled(device)
        if error is None and not (TOTP_PATTERN.match(code) and device.verify_token(code)):
            error = _invalid_code()
        if error is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            StaticDevice.objects.filter(user_id=actor.pk).delete()
            static = StaticDevice.objects.create(user=actor, name="Recovery codes", confirmed=True)
            codes = _new_recovery_codes(static)
            events.two_factor_enabled_event(actor=actor, user=actor, recovery_codes=len(codes))
    if error is not None:
        raise error
    return codes


def two_factor_verify(*, user: User, code: str):
    """The second sign-in step: the device that accepted `code` (a TOTP code, or a recovery code which
    is then used up). A wrong code is audited and makes the device wait before the next try."""
    with transaction.atomic():
        totp, static = _devices_for_update(user)
        if totp is None:
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_OFF, _("Two-factor authentication is off."))
        device, error = _check_code(user=user, code=code, totp=totp, static=static)
    if error is not None:
        raise error
    return device


def _reauthenticate(*, actor: User, totp: TOTPDevice, static, password: str = "", code: str = "",
                    need_both: bool = False) -> ApplicationError | None:
    """Check the password and/or a code again before a sensitive change. A wrong password counts as a
    wrong code on the authenticator (the same waiting time), so a left-open session cannot be used to
    guess the password."""
    if password or need_both:
        throttled = _throttled(totp)
        if throttled:
            return throttled
        if not actor.check_password(password or ""):
            totp.throttle_increment()
            events.two_factor_failed_event(actor=actor, user=actor, method="password")
            message = _("The password is not correct.")
            return ApplicationError(AccountErrorCode.WRONG_PASSWORD, message, fields={"password": [message]})
    if code or need_both or not password:
        _device, error = _check_code(user=actor, code=code, totp=totp, static=static)
        return error
    return None


def recovery_codes_regenerate(*, actor: User, code: str = "", password: str = "") -> list[str]:
    """Replace the user's recovery codes (all old ones stop working) after a current code or the
    password; returns the new codes, the only time they are shown."""
    codes, error = [], None
    with transaction.atomic():
        actor = User.objects.select_for_update().get(pk=actor.pk)
        totp, static = _devices_for_update(actor)
        if totp is None:
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_OFF, _("Two-factor authentication is off."))
        error = _reauthenticate(actor=actor, totp=totp, static=static, password=password, code=code)
        if error is None:
            if static is None:
                static = StaticDevice.objects.create(user=actor, name="Recovery codes", confirmed=True)
            before = static.token_set.count()
            codes = _new_recovery_codes(static)
            events.two_factor_recovery_codes_regenerated_event(actor=actor, user=actor, before=before,
                                                               after=len(codes))
    if error is not None:
        raise error
    return codes


def two_factor_disable(*, actor: User, password: str, code: str) -> None:
    """Turn two-factor sign-in off (password and a current code). Refused while the user's role
    requires it."""
    if requires_two_factor(actor):
        raise ApplicationError(AccountErrorCode.TWO_FACTOR_REQUIRED,
                               _("Your role requires two-factor authentication; it cannot be turned off."))
    error = None
    with transaction.atomic():
        actor = User.objects.select_for_update().get(pk=actor.pk)
        totp, static = _devices_for_update(actor)
        if totp is None:
            raise ApplicationError(AccountErrorCode.TWO_FACTOR_OFF, _("Two-factor authentication is off."))
        error = _reauthenticate(actor=actor, totp=totp, static=static, password=password, code=code,
                                need_both=True)
        if error is None:
            _remove_devices(actor)
            events.two_factor_disabled_event(actor=actor, user=actor)
    if error is not None:
        raise error


def _remove_devices(user: User) -> int:
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user_id=user.pk).delete()[1].get(model._meta.label, 0)
    return removed


@transaction.atomic
def two_factor_reset(*, actor, user: User) -> bool:
    """An administrator removes `user`'s authenticator and recovery codes (a lost phone): the user signs
    in with the password alone, or, when their role requires it, sets up a new app right after it.
    Returns whether there was anything to remove."""
    if actor is not None and not can_reset_two_factor(actor):  # None: an operator's command
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, _("Only an administrator may reset two-factor sign-in."))
    User.objects.select_for_update().get(pk=user.pk)
    removed = _remove_devices(user) > 0
    if removed:
        events.two_factor_reset_event(actor=actor, user=user)
    return removed


# --- Delegation: who decides for a user while they are away ------------------------------------------

MAX_DELEGATION_DAYS = 366


@transaction.atomic
def delegation_create(*, actor, user: User, delegate: User, starts_on, ends_on, note: str = "") -> Delegation:
    """`delegate` stands in for `user` from `starts_on` to `ends_on`: approval tasks made meanwhile go
    to them. A user sets their own; an administrator anyone's."""
    if not can_set_delegation(actor, user):
        raise permission_denied()
    errors = {}
    if delegate is None or not delegate.is_active:
        errors["delegate"] = [_("Choose an active user.")]
    elif delegate.pk == user.pk:
        errors["delegate"] = [_("Choose someone other than the person who is away.")]
    if starts_on is None:
        errors["starts_on"] = [_("Enter the first day.")]
    if ends_on is None:
        errors["ends_on"] = [_("Enter the last day.")]
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = [_("The last day cannot be before the first.")]
        elif (ends_on - starts_on).days >= MAX_DELEGATION_DAYS:
            errors["ends_on"] = [_("A delegation lasts at most a year.")]
        elif ends_on < timezone.localdate():
            errors["ends_on"] = [_("The last day has passed already.")]
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("At most 200 characters.")]
    if errors:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one delegation change per user at a time
    if Delegation.objects.filter(user=user, starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
        raise _invalid("starts_on", _("Another delegation covers some of these days: end it first."))
    delegation = Delegation.objects.create(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on,
                                           note=note)
    events.delegation_event(actor=actor, delegation=delegation, action="delegation.created", changes={
        "delegate": [None, str(delegate)], "starts_on": [None, starts_on.isoformat()],
        "ends_on": [None, ends_on.isoformat()]})
    return delegation


@transaction.atomic
def delegation_end(*, actor, delegation: Delegation) -> Delegation | None:
    """End a delegation now: one not begun yet goes away; one under way ends yesterday. Tasks the
    delegate already holds stay theirs."""
    delegation = Delegation.objects.select_for_update().select_related("user", "delegate").get(pk=delegation.pk)
    if not can_set_delegation(actor, delegation.user):
        raise permission_denied()
    today = timezone.localdate()
    before = delegation.ends_on.isoformat()
    if delegation.ends_on < today:
        return delegation
    events.delegation_event(actor=actor, delegation=delegation, action="delegation.ended",
                            changes={"ends_on": [before, (today - datetime.timedelta(days=1)).isoformat()]})
    if delegation.starts_on >= today:
        delegation.delete()
        return None
    delegation.ends_on = today - datetime.timedelta(days=1)
    delegation.save(update_fields=["ends_on"])
    return delegation
