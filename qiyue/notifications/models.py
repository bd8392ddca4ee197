from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailState(models.TextChoices):
    NONE = "none", _("Not by e-mail")
    PENDING = "pending", _("Waiting to be sent")
    DIGEST = "digest", _("Waiting for the daily digest")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One notification to one user: what happened (`kind` and its `params`, rendered in the reader's
    language, see kinds.py), where to look (`url`), whether it was read, and its e-mail's delivery."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=50)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.NONE)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_at = models.DateTimeField(null=True, blank=True)  # pending: not before; sending: claimed at
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            # The navigation bar's unread count: the recipient's unread rows only.
            models.Index(fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True)),
            models.Index(fields=["email_state", "email_next_at"], name="notification_email_due",
                         condition=models.Q(email_state__in=["pending", "sending"])),
            # The daily digests still to send, per recipient.
            models.Index(fields=["recipient", "created_at"], name="notification_digest",
                         condition=models.Q(email_state="digest")),
        ]

    def __str__(self):
        return f"{self.recipient_id}/{self.kind}/{self.pk}"


class NotificationSetting(models.Model):
    """How a user gets a kind of notification: in the app (an unread one in the inbox) and by e-mail
    (no row: in the app, and by e-mail as the kind says)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=50)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_setting_key")]

    def __str__(self):
        return f"{self.user_id}/{self.kind}: {self.email}"


class EmailDigest(models.Model):
    """A user who takes the kinds that allow it (reminders) as one e-mail a day, not one each. The
    digest of a day is claimed by moving `last_sent_on` to it (one conditional update), so it goes
    out once however many workers look."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    daily = models.BooleanField(default=False)
    last_sent_on = models.DateField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"digest of {self.user_id}: {self.daily}"
