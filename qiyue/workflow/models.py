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


# --- Approval flows (R4.1) --------------------------------------------------------------------------

class Mode(models.TextChoices):
    ANY = "any", _("Any of them (或签)")
    ALL = "all", _("All of them (会签)")


class Review(models.TextChoices):
    NONE = "", _("No checklist")
    LEGAL = "legal", _("Legal review")
    FINANCE = "finance", _("Finance review")


class ApprovalFlow(models.Model):
    """An approval flow administrators configure. The flow chosen for a contract is the first active
    one, by `position`, whose `conditions` all hold (see flows.py), else the default flow. Its steps
    live in versions: saving a change makes a new version, and an approval keeps the one it began with."""

    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("priority"), default=100)
    is_default = models.BooleanField(_("default flow"), default=False)
    active = models.BooleanField(_("in use"), default=True)
    conditions = models.JSONField(_("applies when"), default=list, blank=True)
    current = models.ForeignKey("ApprovalFlowVersion", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the admin's edit
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="approval_flow_one_default")]

    def __str__(self):
        return self.name()

    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else (self.name_en or self.name_zh)


class ApprovalFlowVersion(models.Model):
    """One version of a flow's steps, never changed once made (flows.py says what a step holds)."""

    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="approval_flow_version_number")]

    def __str__(self):
        return f"{self.flow} v{self.number}"


class ApprovalStatus(models.TextChoices):
    RUNNING = "running", _("In progress")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    VOIDED = "voided", _("Voided")


class Approval(models.Model):
    """One round of approval of a contract, from its submission to its outcome."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="approvals")
    # An amendment's approval (its contract stays signed or active meanwhile), or None: the contract's own.
    amendment = models.ForeignKey("contracts.Amendment", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="approvals")
    flow_version = models.ForeignKey(ApprovalFlowVersion, on_delete=models.PROTECT, related_name="approvals")
    status = models.CharField(_("status"), max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.RUNNING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The step waiting for decisions (its index), or None once the approval is over.
    current_step = models.PositiveIntegerField(null=True, blank=True)
    prereview = models.ForeignKey(PreReviewRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    risk_level = models.CharField(max_length=10, default="none")
    # The contract's material facts as submitted: what the approvers approved.
    facts = models.JSONField(default=dict)
    outcome_reason = models.CharField(max_length=1000, blank=True)
    urged_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every decision: a decision made on a page older than the last one is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["contract", "-submitted_at"], name="approval_contract")]
        constraints = [models.UniqueConstraint(fields=["contract"], condition=models.Q(status="running"),
                                               name="approval_one_running")]

    def __str__(self):
        return f"{self.contract_id}: {self.status}"


class StepStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    ACTIVE = "active", _("Waiting for a decision")
    DONE = "done", _("Approved")
    SKIPPED = "skipped", _("Skipped")
    ENDED = "ended", _("Not reached")


class ApprovalStep(models.Model):
    """A step of one approval, copied from the flow version (so the history reads as it happened)."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    mode = models.CharField(max_length=3, choices=Mode.choices)
    review = models.CharField(max_length=10, choices=Review.choices, blank=True)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.UPCOMING)
    # The condition that did not hold, when the step was skipped.
    skipped_because = models.JSONField(null=True, blank=True)
    # Nobody the step names could approve, so the administrators got its tasks.
    fallback = models.BooleanField(default=False)
    # Each time the step becomes current (again, after a return) is a round; its tasks carry it.
    round = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["approval", "index"]
        constraints = [models.UniqueConstraint(fields=["approval", "index"], name="approval_step_index")]

    def __str__(self):
        return self.name()

    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else (self.name_en or self.name_zh)


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for another approver")
    OPEN = "open", _("To decide")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned to an earlier step")
    TRANSFERRED = "transferred", _("Transferred")
    CANCELLED = "cancelled", _("No longer needed")


class ApprovalTask(models.Model):
    """One approver's task in a step (待办). An approver added before someone (加签) gets an open task
    and the adder's task waits `after` it; one added after waits for the adder's approval. `origin` is
    the task a chain of additions began from: in an any-of step the first chain to finish decides."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="tasks")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_tasks")
    # The approver the assignee stands in for (a delegation), or None.
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    origin = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    after = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    transferred_from = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    round = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(max_length=2000, blank=True)
    checklist = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["step__index", "id"]
        indexes = [
            # The inbox and the navigation bar's count: a user's open tasks, oldest first.
            models.Index(fields=["assignee", "opened_at", "id"], name="approval_task_inbox",
                         condition=models.Q(status="open")),
            models.Index(fields=["assignee", "-decided_at"], name="approval_task_decided",
                         condition=models.Q(decided_at__isnull=False)),
            models.Index(fields=["approval", "status"], name="approval_task_approval"),
            # The reminder scan: open tasks created on given days (qiyue.reminders.dates.approval_tasks).
            models.Index(fields=["created_at"], name="approval_task_waiting", condition=models.Q(status="open")),
        ]

    def __str__(self):
        return f"{self.assignee_id} @ {self.step_id}: {self.status}"


class ApprovalComment(models.Model):
    """A comment on an approval by someone taking part in it, with an optional attachment."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=2000)
    # The attachment is a document of the contract (stored, encrypted and audited like any other).
    document = models.ForeignKey("documents.Document", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.author_id} @ {self.approval_id}"
