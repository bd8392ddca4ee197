from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .prereview import KINDS, SEVERITIES, Rule


class Severity(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
    INFO = "info", _("Information")


class RuleKind(models.TextChoices):
    CLAUSE = "clause", _("A clause that should be there")
    RISK = "risk", _("A risky term")
    FACT = "fact", _("A check of the contract's facts")


assert tuple(Severity.values) == SEVERITIES and tuple(RuleKind.values) == KINDS  # noqa: S101


class PreReviewRule(models.Model):
    """One rule of the automated pre-review, as data (see prereview.Rule): administrators edit these
    rows; a migration installs the default set."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RuleKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100)
    patterns = models.JSONField(_("patterns"), default=list, blank=True)
    natures = models.JSONField(_("natures"), default=list, blank=True)
    params = models.JSONField(_("limits"), default=dict, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self):
        return self.label()

    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else (self.label_en or self.label_zh)

    def as_rule(self) -> Rule:
        return Rule(self.key, self.kind, self.severity, self.label_zh, self.label_en, tuple(self.patterns),
                    tuple(self.natures), dict(self.params))


class PreReviewRun(models.Model):
    """One run of the pre-review on a contract: the facts and the text it read, and what it found
    (a list of prereview.Finding as dicts, with the rule's labels copied, so a later change of the
    rules never rewrites an earlier run)."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="prereview_runs")
    document_version = models.ForeignKey("documents.DocumentVersion", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    ran_at = models.DateTimeField(auto_now_add=True)
    ran_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    trigger = models.CharField(max_length=10, default="manual")  # manual | submit
    risk_level = models.CharField(max_length=10)  # a severity, or "none"
    findings = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["contract", "-ran_at"], name="prereview_run_contract")]

    def __str__(self):
        return f"{self.contract_id} @ {self.ran_at:%Y-%m-%d %H:%M}: {self.risk_level}"
