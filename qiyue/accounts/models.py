from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from qiyue.core.models import TimeStampedModel
from qiyue.core.roles import Role


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="members")
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # The language of what Qiyue sends the user (e-mail); empty: the site's (LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    # Whom the user reports to: approval flows name "the owner's superior" and that person's superior.
    reports_to = models.ForeignKey("self", verbose_name=_("reports to"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="reports")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # Django's admin flags follow the role, so one field says what a user may do.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)


class Delegation(models.Model):
    """While `user` is away (from `starts_on` to `ends_on`, both included), approval tasks meant for
    them go to `delegate`, whose decisions are recorded as made on the user's behalf."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey(User, verbose_name=_("delegate"), on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["user", "ends_on"], name="delegation_user_ends")]

    def __str__(self):
        return f"{self.user} → {self.delegate} ({self.starts_on}–{self.ends_on})"
