"""Input and output shapes of the contract API. Inputs validate types, lengths, enums and
decimals; the services check permissions, model rules and uniqueness."""

import datetime
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiyue.accounts.models import Team, User
from qiyue.core import permissions
from qiyue.core.api import TagsField, VersionField, VisiblePrimaryKeyRelatedField
from qiyue.customers.models import Customer

from .. import custom_fields
from ..models import Contract, ContractType, CustomField, SigningMethod, Status, TerminationCategory
from ..services import available_transitions, facts_frozen, review_gaps
from ..transitions import TRANSITIONS


class ContractInput(serializers.ModelSerializer):
    # Empty number: the next one from the configured pattern. Uniqueness is the service's check.
    number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer = VisiblePrimaryKeyRelatedField(queryset=Customer.objects.all())
    parent = VisiblePrimaryKeyRelatedField(queryset=Contract.objects.live(), required=False,
                                           allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    tags = TagsField(required=False)
    contract_type = serializers.PrimaryKeyRelatedField(
        queryset=ContractType.objects.all(), required=False, allow_null=True,
        help_text="the contract type (GET /api/v1/contract-types/ lists them); it decides `custom_fields`")
    custom_fields = serializers.DictField(
        required=False, child=serializers.JSONField(),
        help_text="the contract type's further fields as {key: value}: text; a number or amount (string or "
                  "number); a date YYYY-MM-DD; a choice's value; a list of choice values; a user id; true/false. "
                  "A required field must have a value; a key the type does not have answers 400 `cf_<key>`. "
                  "On update, keys not sent keep their values")
    signing_date = serializers.DateField(
        required=False, allow_null=True,
        help_text="set only by the sign transition: a different value answers 400 signing_date_read_only "
                  "(409 facts_frozen from review on); the value read may be sent back unchanged")

    class Meta:
        model = Contract
        fields = ["number", "title", "customer", "our_entity", "counterparty_signatory", "amount",
                  "no_amount_reason", "currency", "tax_rate", "signing_date", "effective_date", "expiry_date",
                  "open_ended", "auto_renewal", "notice_period_days", "owner", "team", "tags", "description",
                  "nature", "subject_matter", "signing_form", "parent", "contract_type", "custom_fields"]


class ContractUpdateInput(ContractInput):
    version = VersionField()
    void_approval = serializers.BooleanField(
        required=False, default=False, write_only=True,
        help_text="An approved contract's terms are locked: true changes them anyway, returning the contract to "
                  "draft and voiding its approval (recorded); it must be approved again.")

    class Meta(ContractInput.Meta):
        fields = [*ContractInput.Meta.fields, "version", "void_approval"]


class ContractOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    parent_number = serializers.CharField(source="parent.number", read_only=True, allow_null=True,
                                          default=None)
    supplements = serializers.SerializerMethodField()
    tags = TagsField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    nature_display = serializers.CharField(source="get_nature_display", read_only=True)
    subject_matter_display = serializers.CharField(source="get_subject_matter_display", read_only=True)
    signing_form_display = serializers.CharField(source="get_signing_form_display", read_only=True)
    # Empty until the contract is signed: the schema names "" as a value too.
    signing_method = serializers.ChoiceField(choices=SigningMethod.choices, allow_blank=True, read_only=True,
                                             help_text="How the contract was signed; empty until it is signed")
    available_transitions = serializers.SerializerMethodField()
    facts_frozen = serializers.SerializerMethodField(
        help_text="true from in_review to active: title, parties, money, dates, renewal and classification "
                  "change only after the contract is returned to draft (409 facts_frozen)")
    review_gaps = serializers.SerializerMethodField(
        help_text="facts submit still needs, as {field: [message]}; empty when it may be submitted")
    custom_fields = serializers.SerializerMethodField(
        help_text="the contract type's further fields as {key: value} (null where not set)")
    received_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                               help_text="payments received (reversed ones not counted)")
    outstanding_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                                  help_text="what the payment plan's installments still owe")
    invoiced_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                               help_text="issued invoices less red-letter ones (voided not counted)")
    overdue_amount = serializers.SerializerMethodField(
        help_text="what is overdue today: the unpaid installments due before today (derived, never stored)")
    unpaid_since = serializers.DateField(read_only=True, allow_null=True,
                                         help_text="the due date of the oldest installment not fully paid")

    class Meta:
        model = Contract
        fields = [
            "id", "number", "title", "customer", "customer_name", "our_entity", "counterparty_signatory",
            "amount", "no_amount_reason", "currency", "tax_rate", "signing_date", "effective_date", "expiry_date",
            "open_ended", "auto_renewal", "notice_period_days", "facts_frozen", "review_gaps", "owner", "owner_name", "team", "team_name", "tags", "description",
            "nature", "nature_display", "subject_matter", "subject_matter_display", "signing_form",
            "signing_form_display", "parent", "parent_number", "supplements", "status", "status_display",
            "status_reason", "status_changed_at", "signing_method", "available_transitions", "legal_hold",
            "legal_hold_reason", "contract_type", "custom_fields", "renewal_of", "received_amount", "outstanding_amount",
            "invoiced_amount", "overdue_amount", "unpaid_since", "version", "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_overdue_amount(self, contract: Contract) -> str:
        return f"{contract.overdue_amount(timezone.localdate()):.2f}"

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_custom_fields(self, contract: Contract) -> dict:
        values = custom_fields.contract_values(contract) if contract.contract_type_id else {}
        return {key: (str(value) if isinstance(value, Decimal | datetime.date) else value)
                for key, value in values.items()}

    def to_representation(self, contract: Contract) -> dict:
        data = super().to_representation(contract)
        request = self.context.get("request")
        if contract.parent_id and request is not None and not permissions.can_see(request.user, contract.parent):
            # A framework agreement the reader may not see is not named, not even by id.
            data["parent"] = data["parent_number"] = None
        if contract.renewal_of_id and request is not None and not permissions.can_see(request.user,
                                                                                      contract.renewal_of):
            data["renewal_of"] = None
        return data

    def get_facts_frozen(self, contract: Contract) -> bool:
        return facts_frozen(contract)

    @extend_schema_field(serializers.DictField(child=serializers.ListField(child=serializers.CharField())))
    def get_review_gaps(self, contract: Contract) -> dict[str, list[str]]:
        return review_gaps(contract) if contract.status == Status.DRAFT else {}

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_supplements(self, contract: Contract) -> list[int]:
        # The view prefetches only the supplements the requesting user may see.
        return [s.pk for s in contract.supplements.all()]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(
        choices=[name for name, t in TRANSITIONS.items() if not t.workflow])))
    def get_available_transitions(self, contract: Contract) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.name for t in available_transitions(request.user, contract)]


class TransitionInput(serializers.Serializer):
    version = VersionField(required=False)


class ReasonTransitionInput(TransitionInput):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ActivateTransitionInput(TransitionInput):
    confirm_early = serializers.BooleanField(
        required=False, default=False,
        help_text="true activates a contract before its effective date; without it that is 409 "
                  "before_effective_date")


class TerminateTransitionInput(ReasonTransitionInput):
    terminated_on = serializers.DateField(required=False, help_text="the day it ended (default today; not in "
                                                                     "the future, not before the signing)")
    category = serializers.ChoiceField(choices=TerminationCategory.choices, required=False,
                                       help_text="why it ended (default other)")
    settlement_amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False,
                                                 min_value=Decimal("0"),
                                                 help_text="the settlement agreed, in the contract's currency")
    agreed_by = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                      help_text="who agreed on the other side, or the ruling")
    keep_claims = serializers.BooleanField(
        required=False, default=True,
        help_text="true keeps what is still owed (open installments, open obligations) as claims; false "
                  "cancels them")


class SignTransitionInput(TransitionInput):
    signing_method = serializers.ChoiceField(choices=SigningMethod.choices)
    signing_date = serializers.DateField()


class LegalHoldInput(serializers.Serializer):
    hold = serializers.BooleanField(help_text="true places the hold, false releases it")
    reason = serializers.CharField(max_length=1000, allow_blank=True, default="")


class DeleteInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, allow_blank=True, default="")


class CustomFieldOutput(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "label_zh", "label_en", "kind", "required", "choices", "position", "active"]
        read_only_fields = fields


class ContractTypeOutput(serializers.ModelSerializer):
    fields = CustomFieldOutput(many=True, read_only=True, help_text="its custom fields, in their order")

    class Meta:
        model = ContractType
        fields = ["id", "name_zh", "name_en", "active", "fields"]
        read_only_fields = fields
