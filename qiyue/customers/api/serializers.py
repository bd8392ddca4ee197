"""Input and output shapes of the customer API. Inputs only validate types and lengths; the
services decide everything else (permissions, duplicates, uniqueness, model rules)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiyue.accounts.models import Team, User
from qiyue.core import permissions
from qiyue.core.api import TagsField, VersionField, VisiblePrimaryKeyRelatedField
from qiyue.core.validators import normalize_credit_code

from .. import credit as credit_rules
from ..models import Communication, Contact, Customer


class CreditCodeField(serializers.CharField):
    """Full-width and lower-case input is folded before the GB 32100 checks the service runs."""

    def to_internal_value(self, data):
        return normalize_credit_code(super().to_internal_value(data))


class CustomerInput(serializers.ModelSerializer):
    credit_code = CreditCodeField(max_length=18, required=False, allow_blank=True, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    tags = TagsField(required=False)
    confirm_duplicate = serializers.BooleanField(
        required=False, default=False, write_only=True,
        help_text="Save even though a customer with a very similar name exists.")

    class Meta:
        model = Customer
        fields = ["name", "credit_code", "industry", "level", "address", "owner", "team", "tags", "notes",
                  "invoice_title", "taxpayer_id", "invoice_address_phone", "invoice_bank_account", "confirm_duplicate"]


class CustomerUpdateInput(CustomerInput):
    version = VersionField()

    class Meta(CustomerInput.Meta):
        fields = [*CustomerInput.Meta.fields, "version"]


class CreditOutput(serializers.Serializer):
    level = serializers.ChoiceField(choices=credit_rules.LEVELS, read_only=True, help_text=(
        "risk: overdue more than 90 days, or under half of at least 3 installments paid on time; watch: anything "
        "overdue, or under 80 % paid on time; none: no installment paid yet and nothing overdue; good: the rest."))
    days_overdue = serializers.IntegerField(read_only=True, help_text="Days the oldest unpaid installment is overdue.")
    paid = serializers.IntegerField(read_only=True, help_text="Installments fully paid.")
    paid_on_time = serializers.IntegerField(read_only=True, help_text="Of those, paid by their due date.")
    on_time_share = serializers.IntegerField(read_only=True, allow_null=True, help_text="In whole percent.")


class CustomerOutput(serializers.ModelSerializer):
    industry_display = serializers.CharField(source="get_industry_display", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    tags = TagsField(read_only=True)
    credit = serializers.SerializerMethodField(help_text="The credit indicator from the customer's payment behaviour, "
                                                         "as of today.")

    class Meta:
        model = Customer
        fields = ["id", "name", "credit_code", "industry", "industry_display", "level", "level_display",
                  "address", "owner", "owner_name", "team", "team_name", "tags", "notes", "invoice_title",
                  "taxpayer_id", "invoice_address_phone", "invoice_bank_account", "credit", "version", "created_at",
                  "updated_at"]
        read_only_fields = fields

    @extend_schema_field(CreditOutput)
    def get_credit(self, customer) -> dict:
        result = credit_rules.of(customer, timezone.localdate())
        return {"level": result.level, "days_overdue": result.days_overdue, "paid": result.paid,
                "paid_on_time": result.paid_on_time, "on_time_share": result.on_time_share}


class ContactInput(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email", "is_primary"]


class ContactCreateInput(ContactInput):
    customer = VisiblePrimaryKeyRelatedField(queryset=Customer.objects.all())

    class Meta(ContactInput.Meta):
        fields = ["customer", *ContactInput.Meta.fields]


class ContactOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "customer", "customer_name", "name", "title", "phone", "email", "is_primary",
                  "created_at", "updated_at"]
        read_only_fields = fields


class CommunicationInput(serializers.ModelSerializer):
    customer = VisiblePrimaryKeyRelatedField(queryset=Customer.objects.all())
    contract = VisiblePrimaryKeyRelatedField(queryset=Communication._meta.get_field("contract").related_model.objects.live(),
                                             required=False, allow_null=True)

    class Meta:
        model = Communication
        fields = ["customer", "contract", "occurred_on", "channel", "summary"]


class CommunicationOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True, allow_null=True,
                                            default=None)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    author_name = serializers.CharField(source="author.__str__", read_only=True)

    def to_representation(self, record: Communication) -> dict:
        data = super().to_representation(record)
        request = self.context.get("request")
        if record.contract_id and request is not None and not permissions.can_see(request.user, record.contract):
            data["contract"] = data["contract_number"] = None
        return data

    class Meta:
        model = Communication
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "occurred_on", "channel",
                  "channel_display", "summary", "author", "author_name", "created_at"]
        read_only_fields = fields
