"""Reminder rules, what each scan has sent, the calendar feeds and the per-type automatic status.

A rule watches one kind of date (`Subject`) and fires `offset_days` from it (negative: before; 0: on
the day; positive: after) for the people it names. Every reminder sent is one `ReminderSent` row whose
unique key (rule, object, date, recipient) is claimed in the same transaction as its notification, so
a reminder goes out once whatever runs the scan, however often and however it stops (see scan.py)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qiyue.core.roles import Role


class Subject(models.TextChoices):
    CONTRACT_EXPIRY = "contract_expiry", _("Contract expiry")
    NOTICE_DEADLINE = "notice_deadline", _("Renewal notice deadline")
    INSTALLMENT_DUE = "installment_due", _("Installment due")
    OBLIGATION_DUE = "obligation_due", _("Obligation due")
    APPROVAL_WAITING = "approval_waiting", _("Approval task waiting")
    REVIEW_DUE = "review_due", _("Periodic review due")


class ReminderRule(models.Model):
    """When to remind whom of a date. Installed with defaults by a migration (`key` names those);
    an administrator changes, switches off or adds rules."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    subject = models.CharField(_("date watched"), max_length=20, choices=Subject.choices)
    offset_days = models.IntegerField(
        _("days from the date"),
        help_text=_("Negative: that many days before the date; 0: on the day; positive: that many days after."))
    # Who is told. "The person responsible": the contract's owner (an obligation's own owner if it has
    # one; an approval task's approver). "Their manager": whom that person reports to, else the
    # managers of their team.
    to_responsible = models.BooleanField(_("the person responsible"), default=True)
    to_manager = models.BooleanField(_("their manager"), default=False)
    to_roles = models.JSONField(_("everyone with the roles"), default=list, blank=True)
    to_users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("these users"), blank=True,
                                      related_name="+")
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveIntegerField(_("position"), default=100)
    # The last day the scan covered for this rule: the next scan covers the days after it, up to today.
    last_scanned_on = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(offset_days__gte=-3650, offset_days__lte=3650),
                                              name="reminder_rule_offset_range")]

    def __str__(self):
        return self.name_en if self.name_en and not (get_language() or "").startswith("zh") else self.name_zh

    @property
    def role_choices(self) -> list[str]:
        return [r for r in self.to_roles if r in Role.values]

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.role_choices]

    def told(self) -> list[str]:
        """Who the rule tells, as labels (the named users need `to_users` prefetched to stay cheap)."""
        labels = [str(_("the person responsible"))] if self.to_responsible else []
        if self.to_manager:
            labels.append(str(_("their manager")))
        return labels + self.role_labels + [str(u) for u in self.to_users.all()]

    @property
    def days(self) -> int:
        return abs(self.offset_days)


class ReminderSent(models.Model):
    """One reminder of one rule about one object's date to one person: its key is unique, so the scan
    that inserts it first is the one that sends it."""

    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    due_on = models.DateField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    run = models.CharField(max_length=32)  # the scan that claimed it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "object_type", "object_id", "due_on", "recipient"],
                                               name="reminder_sent_key")]
        indexes = [models.Index(fields=["run"], name="reminder_sent_run")]

    def __str__(self):
        return f"{self.rule_id}/{self.object_type}:{self.object_id}/{self.due_on}/{self.recipient_id}"


class TypeSchedule(models.Model):
    """What happens by itself to the contracts of one type: whether they expire on their own past the
    expiry date, and whether auto-renewing ones roll forward once the notice deadline has passed. No
    row (and contracts without a type): both happen."""

    contract_type = models.OneToOneField("contracts.ContractType", verbose_name=_("contract type"),
                                         on_delete=models.CASCADE, related_name="+")
    auto_expire = models.BooleanField(_("expire automatically"), default=True,
                                      help_text=_("Active contracts past their expiry date become expired."))
    auto_renew = models.BooleanField(
        _("renew automatically"), default=True,
        help_text=_("Contracts that renew automatically roll their expiry forward by one term once the notice "
                    "deadline has passed."))
    review_every_months = models.PositiveSmallIntegerField(
        _("review every (months)"), null=True, blank=True,
        help_text=_("Running contracts of the type are due for a review this many months after their effective "
                    "date, and again every period. Empty: no periodic review."))

    class Meta:
        verbose_name = _("automatic status of a contract type")
        constraints = [models.CheckConstraint(
            condition=models.Q(review_every_months__isnull=True)
            | models.Q(review_every_months__gte=1, review_every_months__lte=120),
            name="type_schedule_review_range")]

    def __str__(self):
        return str(self.contract_type)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's personal calendar feed: its secret address (reset to cut off every subscriber) and
    the time zone its entries are given in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    # Empty: the site's (QIYUE_CALENDAR_TIME_ZONE).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # The kinds of date (Subject values) the feed holds; empty: every kind a calendar shows.
    subjects = models.JSONField(_("dates in the feed"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"feed of {self.user_id}"
