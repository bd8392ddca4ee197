"""Amendments (变更) and contract versions over the API: a signed or active contract's amendments, raised,
changed, submitted for approval, signed or cancelled, and the versions of its agreed terms. Thin: load the
contract through the selector (one the user may not see is 404), an amendment through its contract,
validate the input, call one service (qiyue.contracts.amendments: who may, and in what state), render the
output. The approval of a submitted amendment is decided at /api/v1/contracts/{id}/approval/…"""

import math

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qiyue.core.api import ServiceViewMixin, VersionField, require_version
from qiyue.core.permissions import visible
from qiyue.core.selectors import get_or_404
from qiyue.core.validators import MAX_ID

from .. import amendments
from ..models import Amendment, AmendmentStatus, Contract, ContractVersion
from ..selectors import contract_get, contract_queryset
from .views import ERRORS, WRITE_ERRORS

MAX_CHANGES = 10
MAX_CHANGE_TEXT = 100
MAX_FIELD_NAME = 50
# A version number (a PositiveIntegerField): larger is no version at all.
MAX_VERSION = 2**31 - 1
BOOLEAN_TERMS = frozenset(name for name in amendments.AMENDABLE
                          if Contract._meta.get_field(name).get_internal_type() == "BooleanField")
WHOLE_NUMBER_TERMS = frozenset(name for name in amendments.AMENDABLE
                               if Contract._meta.get_field(name).get_internal_type().endswith("IntegerField"))

AMENDMENT_ERRORS = {**WRITE_ERRORS, 409: OpenApiResponse(
    description="stale_version (the amendment changed since you read its `version`), illegal_transition (the "
                "amendment's or the contract's status does not allow this)")}
CREATE_ERRORS = {**ERRORS, 400: OpenApiResponse(
    description="invalid: a wrong type or a value too long; a term that cannot change by amendment or whose new "
                "value is not valid (`fields` names it); no term changed; `document` that is no document of "
                "this contract (does_not_exist)"),
    409: OpenApiResponse(description="illegal_transition (only a signed or active contract is amended) or "
                                     "amendment_open (another amendment of the contract is under way)")}
VALUE_SCHEMA = {"description": "text, a number, true or false, or null",
                "oneOf": [{"type": "string", "maxLength": MAX_CHANGE_TEXT}, {"type": "number"}, {"type": "boolean"}],
                "nullable": True}


def amendments_visible(user) -> QuerySet:
    """The amendments of the contracts `user` may see (not deleted), with what their output reads."""
    rows = Amendment.objects.filter(contract__deleted_at__isnull=True).select_related(
        "contract", "created_by", "contract_version")
    return visible(user, rows, via="contract__")


def inline_enum(choices, **kwargs) -> serializers.CharField:
    """A read-only code out of `choices`, listed where it is used: not as a shared `StatusEnum` component,
    which names the contract's statuses already (drf-spectacular would rename one of them)."""
    schema = {"allOf": [{"type": "string", "enum": [value for value, _label in choices]}]}
    field_class = extend_schema_field(schema)(type("InlineEnumField", (serializers.CharField,), {}))
    return field_class(read_only=True, **kwargs)


# --- Input --------------------------------------------------------------------------------------------

@extend_schema_field({
    "type": "object", "maxProperties": MAX_CHANGES, "additionalProperties": VALUE_SCHEMA,
    "description": f"The new values by term: {', '.join(amendments.AMENDABLE)}. Amounts and rates as strings "
                   f"(\"8000.00\"), dates as YYYY-MM-DD, `open_ended` and `auto_renewal` true or false, "
                   f"`notice_period_days` a whole number; null clears a date. Values equal to the contract's "
                   f"are left out. At most {MAX_CHANGES} terms, texts of at most {MAX_CHANGE_TEXT} characters."})
class ChangesField(serializers.Field):
    """{term: new value}: checked here for shape and size; which terms and values are valid is the
    service's (amendments.clean_changes)."""

    default_error_messages = {
        "not_a_dict": gettext_lazy("Give the new values as an object {{term: value}}."),
        "too_many": gettext_lazy("At most {n} terms."),
        "bad_key": gettext_lazy("A term's name has at most {n} characters."),
        "bad_value": gettext_lazy("“{term}”: give text, a number, true or false, or null."),
        "not_boolean": gettext_lazy("“{term}”: give true or false."),
        "boolean": gettext_lazy("“{term}”: true or false is no value for this term."),
        "not_whole": gettext_lazy("“{term}”: give a whole number."),
        "too_long": gettext_lazy("“{term}”: at most {n} characters."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        if len(data) > MAX_CHANGES:
            self.fail("too_many", n=MAX_CHANGES)
        for term, value in data.items():
            if len(term) > MAX_FIELD_NAME:
                self.fail("bad_key", n=MAX_FIELD_NAME)
            if value is not None and not isinstance(value, str | int | float):
                self.fail("bad_value", term=term)
            if isinstance(value, float) and not math.isfinite(value):
                self.fail("bad_value", term=term)
            if term in BOOLEAN_TERMS and value is not None and not isinstance(value, bool):
                self.fail("not_boolean", term=term)
            if term not in BOOLEAN_TERMS and isinstance(value, bool):
                self.fail("boolean", term=term)
            if term in WHOLE_NUMBER_TERMS and isinstance(value, float) and not value.is_integer():
                self.fail("not_whole", term=term)  # the model field's to_python would cut 3.7 to 3
            if isinstance(value, str) and len(value) > MAX_CHANGE_TEXT:
                self.fail("too_long", term=term, n=MAX_CHANGE_TEXT)
        return dict(data)

    def to_representation(self, value):
        return value


class ContractDocumentField(serializers.PrimaryKeyRelatedField):
    """The id of a document of the contract the amendment belongs to (the view names the contract)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.context["contract"].documents.live()


class AmendmentInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="why the contract changes")
    changes = ChangesField(required=False)
    payment_terms = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                          help_text="the new payment terms, in words")
    other_terms = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                        help_text="what else changes, in words")
    document = ContractDocumentField(required=False, allow_null=True,
                                     help_text="the supplement agreement (补充协议): the id of a document of this "
                                               "contract (uploaded with POST /documents/)")


class AmendmentUpdateInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    changes = ChangesField(help_text="replaces the amendment's changes")
    payment_terms = serializers.CharField(max_length=2000, allow_blank=True)
    other_terms = serializers.CharField(max_length=4000, allow_blank=True)
    version = VersionField(max_value=MAX_VERSION)


class AmendmentSubmitInput(serializers.Serializer):
    version = VersionField(required=False, max_value=MAX_VERSION)


class AmendmentSignInput(serializers.Serializer):
    signed_on = serializers.DateField(help_text="the day the supplement was signed (not in the future)")
    version = VersionField(required=False, max_value=MAX_VERSION)


class AmendmentCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class CompareQuery(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text="the earlier version's number")
    b = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text="the later version's number")


# --- Output -------------------------------------------------------------------------------------------

class ChangeRowOutput(serializers.Serializer):
    field = serializers.CharField(help_text="the term")
    label = serializers.CharField(help_text="its name, in the request's language")
    old = serializers.JSONField(help_text="the value before (the contract's now, until the amendment is signed)")
    new = serializers.JSONField(help_text="the new value")


class CompareRowOutput(ChangeRowOutput):
    changed = serializers.BooleanField()


class AmendmentOutput(serializers.ModelSerializer):
    status = inline_enum(AmendmentStatus.choices)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    changes = serializers.DictField(child=serializers.JSONField(), read_only=True,
                                    help_text="the new values by term, as the contract will carry them")
    change_rows = serializers.SerializerMethodField(help_text="each changed term with its value before and after")
    document = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                  help_text="the supplement document's id, or null")
    created_by = serializers.CharField(source="created_by.__str__", read_only=True, help_text="who raised it")

    class Meta:
        model = Amendment
        fields = ["id", "contract", "number", "status", "status_display", "reason", "changes", "change_rows",
                  "payment_terms", "other_terms", "document", "created_by", "created_at", "signed_on", "version"]
        read_only_fields = fields

    @extend_schema_field(ChangeRowOutput(many=True))
    def get_change_rows(self, amendment: Amendment) -> list[dict]:
        return amendments.change_rows(amendment)


class ContractVersionOutput(serializers.ModelSerializer):
    amendment = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True,
                                             help_text="the number of the amendment that made it; null for version 1")
    facts = serializers.DictField(child=serializers.JSONField(), read_only=True,
                                  help_text="the agreed terms of this version by term")

    class Meta:
        model = ContractVersion
        fields = ["number", "effective_on", "created_at", "amendment", "facts"]
        read_only_fields = fields


class CompareOutput(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    rows = CompareRowOutput(many=True, help_text="every kept term, in order")


# --- A contract's amendments and versions --------------------------------------------------------------

class ContractAmendmentViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """The amendments and versions of a contract the user may see (another is 404). A signed or active
    contract changes its agreed terms only through an amendment: raised by the contract's editors, approved
    like a contract, then signed, when its values become the contract's and a new version of the contract
    is kept. Every step is recorded in the audit log, on the contract's timeline."""

    serializer_class = output_serializer = AmendmentOutput
    queryset = Contract.objects.none()

    def get_queryset(self):
        return contract_queryset(user=self.request.user)

    def get_object(self):
        return contract_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "contract": getattr(self, "contract", None)}

    def output(self, obj) -> dict:
        fresh = amendments_visible(self.request.user).get(pk=obj.pk)
        return AmendmentOutput(fresh, context=self.get_serializer_context()).data

    @extend_schema(methods=["GET"], operation_id="contracts_amendments",
                   summary="The contract's amendments, oldest first",
                   description="Each with its status, reason, the changed terms (`changes`, and `change_rows` "
                               "with the values before and after), the terms changed in words and the supplement "
                               "document. Who sees the contract sees them.",
                   responses={200: AmendmentOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_amendments_create",
                   summary="Raise an amendment of a signed or active contract",
                   description="The contract's editors (its owner and their team's managers and sales, "
                               "administrators). The amendment starts as a draft: change it with PATCH "
                               "/amendments/{id}/, send it for approval with POST /amendments/{id}/submit/. One "
                               "amendment of a contract at a time: another one under way (draft, in review or "
                               "approved) answers 409 amendment_open. Recorded in the audit log.",
                   request=AmendmentInput, responses={201: AmendmentOutput, **CREATE_ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="amendments", url_name="amendments",
            pagination_class=None)
    def contract_amendments(self, request, pk=None):
        contract = self.contract = self.get_object()
        if request.method == "GET":
            rows = amendments_visible(request.user).filter(contract=contract).order_by("number")
            return Response(AmendmentOutput(rows, many=True, context=self.get_serializer_context()).data)
        data = self.validated(AmendmentInput, request.data)
        amendment = amendments.amendment_create(actor=request.user, contract=contract, data=data)
        return Response(self.output(amendment), status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="contracts_versions", summary="The versions of the contract's agreed terms",
                   description="Version 1 is the contract as signed; each signed amendment adds the next, with the "
                               "terms as they then stood (`facts`). The list is empty until the first amendment "
                               "is signed. Who sees the contract sees them.",
                   responses={200: ContractVersionOutput(many=True), **ERRORS})
    @action(detail=True, methods=["get"], url_path="versions", url_name="versions", pagination_class=None)
    def versions(self, request, pk=None):
        rows = amendments.versions(self.get_object())
        return Response(ContractVersionOutput(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(operation_id="contracts_versions_compare", summary="Compare two versions of the contract",
                   description="Every kept term of versions `a` and `b`, with whether it differs. A version the "
                               "contract does not have answers 400 invalid naming `a` or `b`.",
                   parameters=[CompareQuery], responses={200: CompareOutput, **ERRORS})
    @action(detail=True, methods=["get"], url_path="versions/compare", url_name="versions-compare",
            pagination_class=None)
    def compare(self, request, pk=None):
        contract = self.get_object()
        query = self.validated(CompareQuery, request.query_params)
        kept = {version.number: version for version in amendments.versions(contract)}
        missing = {key: [_("This contract has no version %(n)d.") % {"n": query[key]}]
                   for key in ("a", "b") if query[key] not in kept}
        if missing:
            raise exceptions.ValidationError(missing)
        rows = amendments.compare(kept[query["a"]], kept[query["b"]])
        return Response(CompareOutput({"a": query["a"], "b": query["b"], "rows": rows}).data)


# --- One amendment ----------------------------------------------------------------------------------------

@extend_schema_view(
    retrieve=extend_schema(summary="One amendment", responses={200: AmendmentOutput, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a draft amendment (the fields sent; `version` required)",
        description="Its contract's editors, while the amendment is a draft (else 409 illegal_transition). "
                    "`changes`, when sent, replaces the amendment's changes. Send the `version` you read: 409 "
                    "stale_version when someone changed it since. Recorded in the audit log.",
        request=AmendmentUpdateInput, responses={200: AmendmentOutput, **{**AMENDMENT_ERRORS, 400: OpenApiResponse(
            description="invalid: a wrong type or a value too long, `version` missing, a term that cannot change "
                        "by amendment or whose value is not valid, no term changed")}}),
)
class AmendmentViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """An amendment of a contract the user may see (another is 404). Its contract's editors change it while
    it is a draft, submit it for approval, sign it once approved, or cancel it; each step is recorded in the
    audit log. Its approval is the contract's: decide it at /api/v1/contracts/{id}/approval/decide/, withdraw it
    at /api/v1/contracts/{id}/approval/withdraw/ (back to draft)."""

    serializer_class = output_serializer = AmendmentOutput
    queryset = Amendment.objects.none()

    def get_queryset(self):
        return amendments_visible(self.request.user)

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_object()))

    def partial_update(self, request, pk=None):
        amendment = self.get_object()
        data = self.validated(AmendmentUpdateInput, request.data, partial=True)
        expected_version = require_version(data)
        amendment = amendments.amendment_update(actor=request.user, amendment=amendment, data=data,
                                                expected_version=expected_version)
        return Response(self.output(amendment))

    @extend_schema(operation_id="amendments_submit", summary="Submit the amendment for approval",
                   description="A draft amendment of a signed or active contract, by its editors. Its approval "
                               "runs on the flow that applies to the contract with the amendment's values; the "
                               "approvers decide it at /api/v1/contracts/{id}/approval/decide/. Approved, it "
                               "waits to be signed; rejected or withdrawn, it is a draft again.",
                   request=AmendmentSubmitInput, responses={200: AmendmentOutput, **{
                       **AMENDMENT_ERRORS, 409: OpenApiResponse(
                           description="stale_version, illegal_transition (not a draft, or the contract is no "
                                       "longer signed or active), no_flow or no_approver")}})
    @action(detail=True, methods=["post"], url_path="submit", url_name="submit")
    def submit(self, request, pk=None):
        amendment = self.get_object()
        data = self.validated(AmendmentSubmitInput, request.data)
        amendment = amendments.amendment_submit(actor=request.user, amendment=amendment,
                                                expected_version=data.get("version"))
        return Response(self.output(amendment))

    @extend_schema(operation_id="amendments_sign", summary="Record that the approved amendment was signed",
                   description="Its values become the contract's (whose `version` goes up) and the contract's new "
                               "version is kept (GET /contracts/{id}/versions/). Only an approved amendment is "
                               "signed (else 409 illegal_transition); `signed_on` cannot be in the future.",
                   request=AmendmentSignInput, responses={200: AmendmentOutput, **AMENDMENT_ERRORS})
    @action(detail=True, methods=["post"], url_path="sign", url_name="sign")
    def sign(self, request, pk=None):
        amendment = self.get_object()
        data = self.validated(AmendmentSignInput, request.data)
        amendment = amendments.amendment_sign(actor=request.user, amendment=amendment, signed_on=data["signed_on"],
                                              expected_version=data.get("version"))
        return Response(self.output(amendment))

    @extend_schema(operation_id="amendments_cancel", summary="Cancel the amendment",
                   description="A draft or approved amendment, with a reason; the contract stays as it is. One in "
                               "review is withdrawn from its approval first; a signed one stays (409 "
                               "illegal_transition).",
                   request=AmendmentCancelInput, responses={200: AmendmentOutput, **{
                       **WRITE_ERRORS, 409: OpenApiResponse(description="illegal_transition")}})
    @action(detail=True, methods=["post"], url_path="cancel", url_name="cancel")
    def cancel(self, request, pk=None):
        amendment = self.get_object()
        data = self.validated(AmendmentCancelInput, request.data)
        amendment = amendments.amendment_cancel(actor=request.user, amendment=amendment, reason=data["reason"])
        return Response(self.output(amendment))
