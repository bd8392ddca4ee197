"""Writes of the reminders app: the rules and the contract types' automatic status (administrators),
a user's calendar feed (its secret address and time zone). Each validates, saves and audits in one
transaction."""

from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import available_timezones

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.roles import Role
from qiyue.core.services import model_update

from . import events, policies
from .dates import CALENDAR_SUBJECTS
from .models import CalendarFeed, ReminderRule, Subject, TypeSchedule, new_feed_token

RULE_FIELDS = ("name_zh", "name_en", "subject", "offset_days", "to_responsible", "to_manager", "to_roles",
               "active", "position")


def _invalid(fields: Mapping[str, list[str]]) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=dict(fields))


def _clean_users(ids: Iterable[Any]) -> list:
    try:
        wanted = {int(pk) for pk in ids}
    except (TypeError, ValueError):
        raise _invalid({"to_users": [_("Choose users from the list.")]}) from None
    if any(not 0 < pk < 2**63 for pk in wanted):
        raise _invalid({"to_users": [_("Choose users from the list.")]})
    if len(wanted) > 100:
        raise _invalid({"to_users": [_("At most 100 users.")]})
    users = list(get_user_model().objects.filter(pk__in=wanted, is_active=True))
    if len(users) != len(wanted):
        raise _invalid({"to_users": [_("Choose active users from the list.")]})
    return users


@transaction.atomic
def rule_save(*, actor, rule: ReminderRule | None = None, data: Mapping[str, Any],
              expected_version: int | None = None) -> ReminderRule:
    """Create a rule (`rule` None) or change one. `data` holds RULE_FIELDS and `to_users` (user ids)."""
    if not policies.can_manage_rules(actor):
        raise permission_denied()
    creating = rule is None
    if creating:
        rule = ReminderRule(key=f"rule-{timezone.now():%Y%m%d%H%M%S%f}")
    else:
        rule = ReminderRule.objects.select_for_update().get(pk=rule.pk)
        if expected_version is not None and expected_version != rule.version:
            raise stale_version_error()
    errors: dict[str, list[str]] = {}
    roles = data.get("to_roles", rule.to_roles)
    if not isinstance(roles, list | tuple) or any(r not in Role.values for r in roles):
        errors["to_roles"] = [_("Choose roles from the list.")]
    if data.get("subject", rule.subject) not in Subject.values:
        errors["subject"] = [_("Choose a date from the list.")]
    if errors:
        raise _invalid(errors)
    users = _clean_users(data["to_users"]) if "to_users" in data else None
    before_users = sorted(rule.to_users.values_list("pk", flat=True)) if not creating else []
    changes = model_update(instance=rule, fields=RULE_FIELDS, data={**data, "to_roles": sorted(set(roles))})
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise _invalid(exc.message_dict) from exc
    named = bool(users) if users is not None else bool(before_users)
    if not (rule.to_responsible or rule.to_manager or rule.to_roles or named):
        raise _invalid({"to_responsible": [_("Choose at least one person to tell.")]})
    if "subject" in changes or "offset_days" in changes:
        rule.last_scanned_on = None  # a changed rule starts again from the day it changed
    if not creating:
        rule.version += 1
    rule.save()
    if users is not None:
        rule.to_users.set(users)
        after = sorted(u.pk for u in users)
        if after != before_users:
            changes["to_users"] = [before_users, after]
    if creating:
        events.rule_created_event(actor=actor, rule=rule)
    elif changes:
        events.rule_updated_event(actor=actor, rule=rule, changes=changes)
    return rule


@transaction.atomic
def type_schedule_save(*, actor, contract_type, auto_expire: bool, auto_renew: bool,
                       review_every_months: int | None = None) -> TypeSchedule:
    """What happens by itself to a contract type's contracts: expiry, renewal, and the months between
    periodic reviews (None: none)."""
    if not policies.can_manage_rules(actor):
        raise permission_denied()
    if review_every_months is not None and not (isinstance(review_every_months, int)
                                                and 1 <= review_every_months <= 120):
        raise _invalid({"review_every_months": [_("Enter a number of months from 1 to 120, or leave it empty.")]})
    schedule, _created = TypeSchedule.objects.select_for_update().get_or_create(contract_type=contract_type)
    changes = model_update(instance=schedule, fields=("auto_expire", "auto_renew", "review_every_months"),
                           data={"auto_expire": bool(auto_expire), "auto_renew": bool(auto_renew),
                                 "review_every_months": review_every_months})
    if changes:
        schedule.save()
        events.type_schedule_updated_event(actor=actor, schedule=schedule, changes=changes)
    return schedule


def _active(actor):
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise permission_denied()


@transaction.atomic
def feed_reset(*, actor) -> CalendarFeed:
    """Give `actor` a calendar feed, or a new secret address for it: the old address stops working."""
    _active(actor)
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=actor)
    if not created:
        feed.token = new_feed_token()
        feed.reset_at = timezone.now()
        feed.save(update_fields=["token", "reset_at"])
        events.feed_reset_event(actor=actor)
    return feed


@transaction.atomic
def feed_update(*, actor, time_zone: str | None = None, subjects: Iterable[str] | None = None) -> CalendarFeed:
    """The feed's time zone (empty: the site's) and the kinds of date it holds (empty: every kind);
    None leaves one as it is."""
    _active(actor)
    errors = {}
    if time_zone is not None:
        time_zone = time_zone.strip()
        if time_zone and time_zone not in available_timezones():
            errors["time_zone"] = [_("Choose a time zone from the list, such as Asia/Shanghai.")]
    if subjects is not None:
        subjects = sorted(set(subjects))
        if any(subject not in CALENDAR_SUBJECTS for subject in subjects):
            errors["subjects"] = [_("Choose kinds of date from the list.")]
    if errors:
        raise _invalid(errors)
    feed, _created = CalendarFeed.objects.select_for_update().get_or_create(user=actor)
    if time_zone is not None:
        feed.time_zone = time_zone
    if subjects is not None:
        feed.subjects = [] if set(subjects) == set(CALENDAR_SUBJECTS) else subjects
    feed.save(update_fields=["time_zone", "subjects"])
    return feed
