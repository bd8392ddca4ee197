"""Contract API: CRUD plus one POST endpoint per status transition. Thin: load through the
selector (invisible rows are 404), validate the input, call one service, render the output."""

from django.db.models import Prefetch
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qiyue.core import permissions
from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.errors import permission_denied

from .. import policies, services
from ..filters import ContractFilter
from ..models import Contract, ContractType, CustomField
from ..selectors import contract_open, contract_queryset, live_contracts
from ..transitions import TRANSITIONS
from .serializers import (
    ActivateTransitionInput,
    ContractInput,
    ContractOutput,
    ContractTypeOutput,
    ContractUpdateInput,
    DeleteInput,
    LegalHoldInput,
    ReasonTransitionInput,
    SignTransitionInput,
    TerminateTransitionInput,
    TransitionInput,
)

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied"),
          404: OpenApiResponse(description="not_found")}
WRITE_ERRORS = {**ERRORS, 409: OpenApiResponse(description="stale_version or illegal_transition")}
UPDATE_ERRORS = {**ERRORS, 409: OpenApiResponse(
    description="stale_version, contract_closed, or facts_frozen (a frozen fact changed while the contract "
                "is in review, approved, signed or active; `fields` names them)")}
TRANSITION_ERRORS = {
    "submit": {**WRITE_ERRORS, 400: OpenApiResponse(
        description="incomplete_for_review (`fields` names the missing facts), or invalid input"),
        409: OpenApiResponse(description="stale_version, illegal_transition, no_flow or no_approver (no "
                                         "approval flow applies, or nobody may approve one of its steps)")},
    "activate": {**WRITE_ERRORS, 409: OpenApiResponse(
        description="stale_version, illegal_transition, or before_effective_date (send confirm_early=true)")},
}


def _english(label) -> str:
    """The schema is written for integrators in English, whatever language the server starts in."""
    with translation.override("en"):
        return str(label)


TERMINATION_FIELDS = ("terminated_on", "category", "settlement_amount", "agreed_by", "keep_claims")


def _transition_input(name: str) -> type[TransitionInput]:
    transition = TRANSITIONS[name]
    if transition.needs_signing:
        return SignTransitionInput
    if name == "activate":
        return ActivateTransitionInput
    if name == "terminate":
        return TerminateTransitionInput
    return ReasonTransitionInput if transition.reason_required else TransitionInput


def _transition_endpoint(name: str, attr: str):
    """POST /contracts/{id}/<name>/: the transition service with its small input serializer."""
    input_serializer = _transition_input(name)

    def endpoint(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(input_serializer, request.data)
        contract = services.contract_transition(
            actor=request.user, contract=contract, name=name, reason=data.get("reason", ""),
            signing_method=data.get("signing_method", ""), signing_date=data.get("signing_date"),
            expected_version=data.get("version"), confirm_early=data.get("confirm_early", False),
            termination={key: data[key] for key in TERMINATION_FIELDS if key in data} if name == "terminate" else None,
        )
        return Response(self.output(contract))

    endpoint.__name__ = attr
    endpoint = action(detail=True, methods=["post"], url_path=name, url_name=name)(endpoint)
    return extend_schema(
        operation_id=f"contracts_{name}",
        summary=_english(TRANSITIONS[name].label),
        description=f"Status transition “{name}”. Refused with 409 illegal_transition from any other status.",
        request=input_serializer, responses={200: ContractOutput, **TRANSITION_ERRORS.get(name, WRITE_ERRORS)},
    )(endpoint)


@extend_schema_view(
    list=extend_schema(summary="Contracts the user may see, filtered and sorted (`ordering`)"),
    retrieve=extend_schema(summary="One contract (records an access event)",
                           responses={200: ContractOutput, **ERRORS}),
    create=extend_schema(request=ContractInput, responses={201: ContractOutput, **ERRORS}),
    update=extend_schema(request=ContractUpdateInput, responses={200: ContractOutput, **UPDATE_ERRORS}),
    partial_update=extend_schema(request=ContractUpdateInput,
                                 responses={200: ContractOutput, **UPDATE_ERRORS}),
)
class ContractViewSet(ServiceViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Contracts the user may see (their role and team decide; see docs/permissions.md). A change (PUT or
    PATCH) carries the `version` it was read at and answers 409 `stale_version` when someone changed the
    contract since; status changes are the POST actions named after them (submit, sign, activate …); a submitted contract
    is approved through its approval (/api/v1/contracts/{id}/approval/).
    Every change, and every read of one contract, is recorded in the audit log."""
    serializer_class = output_serializer = ContractOutput
    filterset_class = ContractFilter
    queryset = Contract.objects.none()  # the real rows come from the selector

    def get_queryset(self):
        user = self.request.user
        # Supplement ids, but only those this user may see.
        visible_supplements = permissions.visible(user, live_contracts().only("id", "parent")).order_by("id")
        supplements = Prefetch("supplements", queryset=visible_supplements)
        return contract_queryset(user=user).select_related("parent").prefetch_related(supplements)

    def retrieve(self, request, *args, **kwargs):
        contract = contract_open(user=request.user, pk=kwargs["pk"], queryset=self.filter_queryset(self.get_queryset()))
        return Response(self.output(contract))

    def create(self, request):
        if not policies.can_create_contract(request.user):
            raise permission_denied()
        data = self.validated(ContractInput, request.data)
        contract = services.contract_create(actor=request.user, data=data)
        return Response(self.output(contract), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        contract = self.get_object()
        if not policies.can_edit_contract(request.user, contract):
            raise permission_denied()
        data = self.validated(ContractUpdateInput, request.data, partial=partial)
        void_approval = data.pop("void_approval", False)
        contract = services.contract_update(actor=request.user, contract=contract, data=data,
                                            expected_version=require_version(data), void_approval=void_approval)
        return Response(self.output(contract))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(summary="Delete the contract (soft; admins after retention, editors for unsigned drafts)",
                   request=DeleteInput, responses={204: None, **ERRORS, 409: OpenApiResponse(
                       description="legal_hold, within_retention, has_supplements or illegal_transition")})
    def destroy(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(DeleteInput, request.data or request.query_params)
        services.contract_delete(actor=request.user, contract=contract, reason=data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(operation_id="contracts_legal_hold", summary="Place or release a legal hold (legal, admin)",
                   request=LegalHoldInput, responses={200: ContractOutput, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="legal-hold", url_name="legal-hold")
    def legal_hold(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(LegalHoldInput, request.data)
        contract = services.contract_set_legal_hold(actor=request.user, contract=contract, hold=data["hold"],
                                                    reason=data["reason"])
        return Response(self.output(contract))

    @extend_schema(operation_id="contracts_renew", summary="Start the renewal: a linked draft for the next period",
                   description="A new draft with this contract's terms, from the day after its expiry for as long "
                               "as it ran, linked to it (`renewal_of`). Signed, active, completed or expired "
                               "contracts only (409 illegal_transition); one renewal at a time (409 already_renewed).",
                   request=None, responses={201: ContractOutput, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="renew", url_name="renew")
    def renew(self, request, pk=None):
        contract = self.get_object()
        if not policies.can_renew(request.user, contract):
            raise permission_denied()
        successor = services.contract_renew(actor=request.user, contract=contract)
        return Response(self.output(successor), status=status.HTTP_201_CREATED)

    # Approving, rejecting and withdrawing are the approval's (/api/v1/contracts/{id}/approval/…), not one click.
    submit = _transition_endpoint("submit", "submit")
    sign = _transition_endpoint("sign", "sign")
    activate = _transition_endpoint("activate", "activate")
    complete = _transition_endpoint("complete", "complete")
    expire = _transition_endpoint("expire", "expire")
    terminate = _transition_endpoint("terminate", "terminate")
    cancel = _transition_endpoint("cancel", "cancel")


class ContractTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """Contract types and their custom fields: what `contract_type` and `custom_fields` of a contract
    accept (types are defined by administrators in the app)."""

    serializer_class = ContractTypeOutput
    queryset = ContractType.objects.none()

    def get_queryset(self):
        return ContractType.objects.prefetch_related(
            Prefetch("fields", queryset=CustomField.objects.order_by("position", "pk"))).order_by("name_zh")
