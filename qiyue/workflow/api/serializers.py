"""Input and output shapes of the review and approval API. Inputs check types, lengths and enums;
the services check the rest (who may, the approval's state, a flow's definition, a checklist)."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiyue.accounts.models import Delegation, User
from qiyue.contracts.models import Contract, ExchangeRate
from qiyue.core.api import VersionField
from qiyue.core.validators import MAX_ID

from .. import checklist, flows
from ..models import (
    Approval,
    ApprovalComment,
    ApprovalFlow,
    ApprovalStatus,
    ApprovalStep,
    ApprovalTask,
    PreReviewRun,
    StepStatus,
    TaskStatus,
)

# An approval's or a flow's `version` (a PositiveIntegerField): larger is no version at all.
MAX_VERSION = 2**31 - 1
APPROVAL_VERSION_HELP = "The approval's version you read (optional): a stale one is 409 stale_version."


class IdField(serializers.IntegerField):
    """An id in a request body: a whole number from 1 to the largest 64-bit key."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def inline_enum(choices, **kwargs) -> serializers.CharField:
    """A read-only code out of `choices`, its values listed where it is used. Not as a shared `…Enum`
    component: `status` names the contract's StatusEnum already, and drf-spectacular would rename that
    component for a second choice set of the same name."""
    schema = {"allOf": [{"type": "string", "enum": [value for value, _label in choices]}]}
    field_class = extend_schema_field(schema)(type("InlineEnumField", (serializers.CharField,), {}))
    return field_class(read_only=True, **kwargs)


# --- The shapes flows.py defines, documented for the schema (the service checks them) ---------------

CONDITION_SCHEMA = {
    "type": "object",
    "description": "Holds for a contract when its fact `field` compares with `value` by `op`: `amount_cny` "
                   "gte | lt a number; `nature`, `subject_matter`, `signing_form`, `contract_type` (ids), "
                   "`customer_level` in | not_in a list of codes; `supplement` is true | false; `risk_level` "
                   "gte | lt low | medium | high.",
    "properties": {
        "field": {"type": "string", "enum": list(flows.FIELDS)},
        "op": {"type": "string", "enum": ["gte", "lt", "in", "not_in", "is"]},
        "value": {"description": "a number (as a string or a number), a list of codes, true or false, or a "
                                 "risk level"},
    },
    "required": ["field", "op", "value"],
}
APPROVER_SCHEMA = {
    "type": "object",
    "description": "Who approves: a role (`admin`, `manager`, `legal`, `finance`), a relation to the contract "
                   "(`team_manager`, `owner_superior`, `owner_superior_2`) or a user (their id).",
    "properties": {
        "type": {"type": "string", "enum": list(flows.APPROVER_TYPES)},
        "value": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    },
    "required": ["type", "value"],
}
STEP_SCHEMA = {
    "type": "object",
    "description": "A step of the flow. `mode` any: one approval is enough; all: everyone's is needed. "
                   "`review` legal or finance asks each approver for the review checklist. The step "
                   "runs only when every condition of `when` holds; otherwise it is skipped.",
    "properties": {
        "name_zh": {"type": "string", "maxLength": flows.MAX_NAME},
        "name_en": {"type": "string", "maxLength": flows.MAX_NAME},
        "mode": {"type": "string", "enum": list(flows.MODES)},
        "review": {"type": "string", "enum": list(flows.REVIEWS)},
        "approvers": {"type": "array", "items": APPROVER_SCHEMA, "maxItems": flows.MAX_APPROVERS},
        "when": {"type": "array", "items": CONDITION_SCHEMA, "maxItems": flows.MAX_CONDITIONS},
    },
    "required": ["name_zh", "approvers"],
}


SCALARS = (str, int, float, bool, type(None))
SURROGATE = re.compile("[\ud800-\udfff]")
NOT_UNICODE = gettext_lazy("Text must be valid Unicode (no lone surrogates).")
NOT_A_VALUE = gettext_lazy("A value is a text, a number, true or false, or a list of them.")


def _encodable(data) -> bool:
    """Whether every text in `data`, keys included, is valid Unicode (a lone surrogate cannot be stored)."""
    if isinstance(data, str):
        return not SURROGATE.search(data)
    if isinstance(data, dict):
        return all(_encodable(key) and _encodable(value) for key, value in data.items())
    if isinstance(data, list):
        return all(_encodable(item) for item in data)
    return True


def _condition_errors(path: str, condition) -> dict:
    if not _encodable(condition):
        return {path: [NOT_UNICODE]}
    value = condition.get("value") if isinstance(condition, dict) else None
    if not isinstance(value, SCALARS) and not (isinstance(value, list) and all(isinstance(v, SCALARS) for v in value)):
        return {f"{path}.value": [NOT_A_VALUE]}
    return {}


def _listed(value) -> list:
    return value if isinstance(value, list) else []


class DefinitionField(serializers.ListField):
    """Parts of a flow's definition as JSON. Their shape is flows.py's to check (400 flow_invalid, naming
    each problem); refused here is only what no definition holds and what could not be compared or
    stored: text that is no valid Unicode, a `value` that is no text, number or list of them."""

    child = serializers.JSONField()

    def to_internal_value(self, data):
        items = super().to_internal_value(data)
        errors = {}
        for n, item in enumerate(items):
            errors.update(self.item_errors(str(n), item))
        if errors:
            raise serializers.ValidationError(errors)
        return items

    def item_errors(self, path: str, item) -> dict:
        """{path: [message]} of what one item may not hold (each kind of part says; none by default)."""
        return {}


@extend_schema_field({"type": "array", "items": CONDITION_SCHEMA, "maxItems": flows.MAX_CONDITIONS})
class ConditionsField(DefinitionField):
    def item_errors(self, path: str, item) -> dict:
        return _condition_errors(path, item)


@extend_schema_field({"type": "array", "items": STEP_SCHEMA, "minItems": 1, "maxItems": flows.MAX_STEPS})
class StepsField(DefinitionField):
    def item_errors(self, path: str, item) -> dict:
        if not _encodable(item):
            return {path: [NOT_UNICODE]}
        if not isinstance(item, dict):
            return {}
        errors = {}
        for n, approver in enumerate(_listed(item.get("approvers"))):
            if isinstance(approver, dict) and not isinstance(approver.get("value"), SCALARS):
                errors[f"{path}.approvers.{n}.value"] = [NOT_A_VALUE]
        for n, condition in enumerate(_listed(item.get("when"))):
            errors.update(_condition_errors(f"{path}.when.{n}", condition))
        return errors


# --- Flows and exchange rates (administrators) ------------------------------------------------------

class FlowInput(serializers.Serializer):
    name_zh = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=10000, required=False,
                                        help_text="Priority: flows are tried in this order (lowest first).")
    is_default = serializers.BooleanField(
        required=False, help_text="The flow for contracts no other flow applies to (it has no conditions); "
                                  "making a flow the default takes that from the one before.")
    active = serializers.BooleanField(required=False)
    conditions = ConditionsField(required=False, max_length=flows.MAX_CONDITIONS,
                                 help_text="When the flow applies (all must hold; none: to every contract). The "
                                           "default flow has none.")
    steps = StepsField(max_length=flows.MAX_STEPS,
                       help_text="Its steps in order; a change of the steps makes a new flow version, which "
                                 "approvals started later follow (those under way keep theirs).")


class FlowUpdateInput(FlowInput):
    version = VersionField(max_value=MAX_VERSION)


class FlowOutput(serializers.ModelSerializer):
    conditions = ConditionsField(read_only=True)
    steps = serializers.SerializerMethodField(help_text="The current version's steps.")
    flow_version = serializers.IntegerField(source="current.number", read_only=True, allow_null=True, default=None,
                                            help_text="The number of the current version of the steps.")

    class Meta:
        model = ApprovalFlow
        fields = ["id", "name_zh", "name_en", "description", "position", "is_default", "active", "conditions",
                  "steps", "flow_version", "version", "updated_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": STEP_SCHEMA})
    def get_steps(self, flow: ApprovalFlow) -> list:
        return flow.current.steps if flow.current_id else []


class ExchangeRateInput(serializers.Serializer):
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217 code, not CNY.")
    rate = serializers.DecimalField(max_digits=18, decimal_places=6, help_text="CNY per unit of the currency.")
    valid_from = serializers.DateField(help_text="The first day the rate applies (the same day again: replaced).")


class ExchangeRateOutput(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "rate", "valid_from", "updated_at"]
        read_only_fields = fields


# --- Approvals -------------------------------------------------------------------------------------

class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class ChecklistItemOutput(serializers.Serializer):
    mark = serializers.ChoiceField(choices=checklist.MARKS, read_only=True)
    note = serializers.CharField(read_only=True)


CHECKLIST_HELP = f"The review checklist by point ({', '.join(checklist.KEYS)}): each marked and with an optional note."


class TaskOutput(serializers.ModelSerializer):
    assignee = PersonOutput(read_only=True)
    on_behalf_of = PersonOutput(read_only=True, allow_null=True,
                                help_text="The approver the assignee stands in for (a delegation).")
    added_by = PersonOutput(read_only=True, allow_null=True, help_text="Who added this approver.")
    transferred_from = PersonOutput(read_only=True, allow_null=True, help_text="Who handed the task on.")
    status = inline_enum(TaskStatus.choices)
    checklist = serializers.DictField(child=ChecklistItemOutput(), read_only=True, help_text=CHECKLIST_HELP)

    class Meta:
        model = ApprovalTask
        fields = ["id", "assignee", "on_behalf_of", "added_by", "transferred_from", "status", "round", "opened_at",
                  "decided_at", "comment", "checklist"]
        read_only_fields = fields


class StepOutput(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the request's language.")
    status = inline_enum(StepStatus.choices)
    skipped_because = serializers.SerializerMethodField(help_text="The condition that did not hold, when skipped.")
    tasks = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalStep
        fields = ["index", "name", "name_zh", "name_en", "mode", "review", "status", "skipped_because", "fallback",
                  "round", "started_at", "finished_at", "tasks"]
        read_only_fields = fields
        extra_kwargs = {"fallback": {"help_text": "Nobody the step names could approve: the administrators "
                                                  "got its tasks."}}

    @extend_schema_field({**CONDITION_SCHEMA, "nullable": True})
    def get_skipped_because(self, step: ApprovalStep) -> dict | None:
        return step.skipped_because

    @extend_schema_field(TaskOutput(many=True))
    def get_tasks(self, step: ApprovalStep) -> list:
        # The approval's tasks, prefetched once and grouped by step (see ApprovalOutput.get_steps).
        tasks = self.context["tasks_by_step"].get(step.pk, [])
        return TaskOutput(tasks, many=True, context=self.context).data


class CommentOutput(serializers.ModelSerializer):
    author = PersonOutput(read_only=True)
    document = serializers.IntegerField(source="document_id", read_only=True, allow_null=True,
                                        help_text="The attachment: a document of the contract (/api/v1/documents/).")

    class Meta:
        model = ApprovalComment
        fields = ["id", "author", "text", "created_at", "document"]
        read_only_fields = fields


class ApprovalOutput(serializers.ModelSerializer):
    status = inline_enum(ApprovalStatus.choices)
    flow = serializers.IntegerField(source="flow_version.flow_id", read_only=True)
    flow_name = serializers.CharField(source="flow_version.flow.name", read_only=True,
                                      help_text="In the request's language.")
    flow_version = serializers.IntegerField(source="flow_version.number", read_only=True,
                                            help_text="The version of the flow's steps this approval follows.")
    submitted_by = PersonOutput(read_only=True, allow_null=True)
    current_step = serializers.IntegerField(read_only=True, allow_null=True,
                                            help_text="The index of the step waiting for decisions; null once over.")
    risk_level = serializers.CharField(read_only=True, help_text="The pre-review's verdict at submission: none, "
                                                                 "info, low, medium or high.")
    version = serializers.IntegerField(read_only=True, help_text="Send it with a decision or another action on "
                                                                 "the approval: a stale one is 409 stale_version.")
    steps = serializers.SerializerMethodField()
    comments = CommentOutput(many=True, read_only=True)
    amendment = serializers.IntegerField(source="amendment.number", read_only=True, allow_null=True, default=None,
                                         help_text="The number of the amendment this approval decides; null for the "
                                                   "contract's own approval.")

    class Meta:
        model = Approval
        fields = ["id", "status", "flow", "flow_name", "flow_version", "amendment", "submitted_by", "submitted_at",
                  "finished_at", "current_step", "outcome_reason", "risk_level", "version", "steps", "comments"]
        read_only_fields = fields

    @extend_schema_field(StepOutput(many=True))
    def get_steps(self, approval: Approval) -> list:
        tasks_by_step: dict[int, list] = {}
        for task in approval.tasks.all():
            tasks_by_step.setdefault(task.step_id, []).append(task)
        return StepOutput(approval.steps.all(), many=True, context={**self.context, "tasks_by_step": tasks_by_step}).data


class TaskContractOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "number", "title", "customer_name", "amount", "currency"]
        read_only_fields = fields


class TaskRowOutput(serializers.ModelSerializer):
    """One row of the approver's inbox or of what they decided."""

    contract = TaskContractOutput(read_only=True)
    approval = serializers.IntegerField(source="approval_id", read_only=True)
    step_name = serializers.CharField(source="step.name", read_only=True, help_text="In the request's language.")
    review = serializers.CharField(source="step.review", read_only=True,
                                   help_text="legal or finance: the decision needs the review checklist; empty: none.")
    status = inline_enum(TaskStatus.choices)
    on_behalf_of = PersonOutput(read_only=True, allow_null=True)
    submitted_by = PersonOutput(source="approval.submitted_by", read_only=True, allow_null=True)
    risk_level = serializers.CharField(source="approval.risk_level", read_only=True)
    approval_version = serializers.IntegerField(source="approval.version", read_only=True,
                                                help_text="Send it as `version` with the decision.")

    class Meta:
        model = ApprovalTask
        fields = ["id", "contract", "approval", "step_name", "review", "status", "opened_at", "decided_at",
                  "on_behalf_of", "submitted_by", "risk_level", "approval_version"]
        read_only_fields = fields


class TaskListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "decided"], default="open", required=False)


class ChecklistItemInput(serializers.Serializer):
    mark = serializers.ChoiceField(choices=checklist.MARKS)
    note = serializers.CharField(max_length=checklist.MAX_NOTE, required=False, allow_blank=True, default="")


MAX_CHECKLIST_POINTS = 20


class ChecklistInput(serializers.DictField):
    """{point: {mark, note}}. Which points it must have is the service's check (checklist_incomplete)."""

    child = ChecklistItemInput()

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > MAX_CHECKLIST_POINTS:
            raise serializers.ValidationError(_("At most %(n)d points.") % {"n": MAX_CHECKLIST_POINTS},
                                              code="max_length")
        if isinstance(data, dict) and any(len(key) > 50 or not _encodable(key) for key in data):
            raise serializers.ValidationError(_("Name each point by its code."), code="invalid")
        return super().to_internal_value(data)


class DecideInput(serializers.Serializer):
    task = IdField(help_text="Your open task (GET /api/v1/approval-tasks/).")
    decision = serializers.ChoiceField(choices=["approve", "reject", "return"])
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                    help_text="Required to reject or return, and to approve with an issue marked.")
    checklist = ChecklistInput(required=False, allow_null=True, default=None,
                               help_text=f"Required in a legal or finance review step: every point "
                                         f"({', '.join(checklist.KEYS)}) marked pass, issue or na.")
    return_to = serializers.IntegerField(min_value=0, max_value=flows.MAX_STEPS, required=False, allow_null=True,
                                         default=None, help_text="return: the index of an earlier approved step.")
    version = VersionField(required=False, max_value=MAX_VERSION, help_text=APPROVAL_VERSION_HELP)


class TransferInput(serializers.Serializer):
    task = IdField()
    to = IdField(help_text="The user to hand the task to (an active reviewer who sees the contract).")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = VersionField(required=False, max_value=MAX_VERSION, help_text=APPROVAL_VERSION_HELP)


class AddApproverInput(serializers.Serializer):
    task = IdField()
    user = IdField(help_text="The approver to add (an active reviewer who sees the contract).")
    position = serializers.ChoiceField(choices=["before", "after"],
                                       help_text="before: they decide first, then your task comes back; after: "
                                                 "they decide once you approved.")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = VersionField(required=False, max_value=MAX_VERSION, help_text=APPROVAL_VERSION_HELP)


class WithdrawInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    version = VersionField(required=False, max_value=MAX_VERSION, help_text=APPROVAL_VERSION_HELP)


class CommentInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class CommentUploadInput(CommentInput):
    attachment = serializers.FileField(required=False, help_text="One file: it becomes a document of the contract.")


# --- Pre-review --------------------------------------------------------------------------------------

class FindingOutput(serializers.Serializer):
    rule = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="clause, risk or fact")
    severity = serializers.CharField(read_only=True, help_text="high, medium, low, or info (a clause found)")
    found = serializers.BooleanField(read_only=True)
    excerpt = serializers.CharField(read_only=True)
    page = serializers.IntegerField(read_only=True, allow_null=True)
    value = serializers.CharField(read_only=True)
    label_zh = serializers.CharField(read_only=True)
    label_en = serializers.CharField(read_only=True)


class PreReviewRunOutput(serializers.ModelSerializer):
    findings = FindingOutput(many=True, read_only=True)
    risk_level = serializers.CharField(read_only=True, help_text="The worst severity found, or none.")
    trigger = serializers.CharField(read_only=True, help_text="manual, or submit (run at submission).")

    class Meta:
        model = PreReviewRun
        fields = ["id", "risk_level", "ran_at", "trigger", "findings"]
        read_only_fields = fields


class PreReviewOutput(serializers.Serializer):
    run = PreReviewRunOutput(read_only=True, allow_null=True, help_text="The latest run, or null when none ran.")


# --- Delegations -------------------------------------------------------------------------------------

class DelegationInput(serializers.Serializer):
    delegate = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(),
                                                  help_text="Who decides the approval tasks meanwhile.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="The last day (included); at most a year after the first.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False,
                                              help_text="Whose delegation (administrators only); default: yours.")


class DelegationListQuery(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)


class DelegationOutput(serializers.ModelSerializer):
    user = PersonOutput(read_only=True)
    delegate = PersonOutput(read_only=True)

    class Meta:
        model = Delegation
        fields = ["id", "user", "delegate", "starts_on", "ends_on", "note", "created_at"]
        read_only_fields = fields
