"""Review and approval API: approval flows and exchange rates (administrators), the approver's tasks,
a contract's approval and the actions on it, delegations, the pre-review. Thin: load through the
selectors (a contract the user may not see is 404), validate the input, call one service, render the
output. Who may decide, and in what state, is the services' to say (qiyue.workflow.errors)."""

from collections.abc import Mapping

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from qiyue.accounts import selectors as account_selectors
from qiyue.accounts import services as account_services
from qiyue.accounts.models import Delegation
from qiyue.accounts.policies import can_set_delegation
from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts.models import Contract, ExchangeRate
from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.errors import permission_denied
from qiyue.core.policies import is_admin
from qiyue.core.selectors import get_or_404
from qiyue.documents.uploads import install_size_limit, too_large_error

from .. import policies, selectors, services
from ..models import ApprovalFlow, ApprovalTask
from .serializers import (
    AddApproverInput,
    ApprovalOutput,
    CommentInput,
    CommentOutput,
    CommentUploadInput,
    DecideInput,
    DelegationInput,
    DelegationListQuery,
    DelegationOutput,
    ExchangeRateInput,
    ExchangeRateOutput,
    FlowInput,
    FlowOutput,
    FlowUpdateInput,
    PreReviewOutput,
    TaskListQuery,
    TaskRowOutput,
    TransferInput,
    WithdrawInput,
)

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied"),
          404: OpenApiResponse(description="not_found")}
ADMIN_ERRORS = {**ERRORS, 403: OpenApiResponse(description="permission_denied: administrators only")}
FLOW_ERRORS = {**ADMIN_ERRORS, 400: OpenApiResponse(
    description="flow_invalid: `fields` names each problem by its path (`name_zh`, `conditions.0`, "
                "`steps.1.approvers`, `steps.2.when` …); or invalid input")}
FLOW_UPDATE_ERRORS = {**FLOW_ERRORS, 409: OpenApiResponse(description="stale_version")}
NOT_IN_APPROVAL = "illegal_transition (the contract is not in approval)"
TASK_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(description="permission_denied: the task is someone else's"),
    404: OpenApiResponse(description="not_found: the contract (or the task) is not one you may see"),
    409: OpenApiResponse(description=f"stale_version (the approval changed since you read its `version`), "
                                     f"task_closed (the task was decided, handed on or cancelled meanwhile), "
                                     f"{NOT_IN_APPROVAL}, or no_approver (nobody may approve the next step)"),
}
DECIDE_ERRORS = {**TASK_ERRORS, 400: OpenApiResponse(
    description="reason_required (a rejection or a return needs a comment), checklist_incomplete (a review step: "
                "`fields` names the points `checklist.<point>`, or `comment` when approving with an issue), or "
                "invalid input (`return_to` that is no earlier approved step …)")}
HAND_ON_ERRORS = {**TASK_ERRORS, 400: OpenApiResponse(
    description="not_eligible (the person is no active reviewer who sees the contract, is its owner or submitter, "
                "yourself, or has a task in this step already), or invalid input")}
WITHDRAW_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(description="permission_denied: only the contract's owner or the approval's submitter"),
    409: OpenApiResponse(description=f"already_decided (an approver has decided), stale_version, or "
                                     f"{NOT_IN_APPROVAL}"),
}
URGE_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(description="permission_denied: only the contract's owner or the approval's submitter"),
    409: OpenApiResponse(description=NOT_IN_APPROVAL),
    429: OpenApiResponse(description="urged_recently: at most once an hour per approval"),
}
COMMENT_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="invalid input, or a refused file (file_empty, file_type_not_allowed, "
                                     "file_type_mismatch, pdf_encrypted …, as for documents)"),
    403: OpenApiResponse(description="permission_denied: only those taking part in the approval and reviewers"),
    409: OpenApiResponse(description="illegal_transition (the contract was never submitted for approval)"),
    413: OpenApiResponse(description="file_too_large"),
}
HISTORY = ApprovalOutput(many=True)
VERSION_NOTE = ("Send the approval's `version` you read: if the approval changed meanwhile the answer is 409 "
                "stale_version and nothing happens. Answers with the contract's approval history, as GET "
                "`/contracts/{id}/approval/`.")


class ManagesFlows(BasePermission):
    """Approval flows and exchange rates are the administrators' (workflow.policies.can_manage_flows)."""

    def has_permission(self, request, view) -> bool:
        return policies.can_manage_flows(request.user)


def _fields(request, *files: str):
    """The request's fields without its file fields (the body as sent when it is no form or object)."""
    if isinstance(request.data, Mapping):
        return {key: request.data[key] for key in request.data if key not in files}
    return request.data


# --- Administration: flows and exchange rates ----------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Approval flows, the default first, then by priority",
                       responses={200: FlowOutput(many=True), **ADMIN_ERRORS}),
    retrieve=extend_schema(summary="One approval flow with its current steps", responses={200: FlowOutput,
                                                                                            **ADMIN_ERRORS}),
)
class ApprovalFlowViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Approval flows (administrators only). A contract submitted for review follows the first active flow,
    by priority (`position`), whose `conditions` all hold, else the default flow. Each step names its
    approvers and, with `when`, the conditions it runs under. Saving changed steps makes a new flow version;
    approvals under way keep the version they began with. A change carries the flow's `version`
    (409 stale_version when someone saved since). Every change is recorded in the audit log."""

    permission_classes = [IsAuthenticated, ManagesFlows]
    serializer_class = output_serializer = FlowOutput
    queryset = ApprovalFlow.objects.none()

    def get_queryset(self):
        return selectors.flows()

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(summary="Create an approval flow", request=FlowInput, responses={201: FlowOutput, **FLOW_ERRORS})
    def create(self, request):
        data = self.validated(FlowInput, request.data)
        flow = services.flow_save(actor=request.user, flow=None, data=data)
        return Response(self.output(flow), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an approval flow (the fields sent; `name_zh` and `steps` required)",
                   request=FlowUpdateInput, responses={200: FlowOutput, **FLOW_UPDATE_ERRORS})
    def update(self, request, pk=None, partial=False):
        flow = self.get_object()
        data = self.validated(FlowUpdateInput, request.data, partial=partial)
        expected_version = require_version(data)
        flow = services.flow_save(actor=request.user, flow=flow, data=data, expected_version=expected_version)
        return Response(self.output(flow))

    @extend_schema(summary="Change some fields of an approval flow", request=FlowUpdateInput,
                   responses={200: FlowOutput, **FLOW_UPDATE_ERRORS})
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)


@extend_schema_view(
    list=extend_schema(summary="Exchange rates to CNY, by currency, newest first",
                       responses={200: ExchangeRateOutput(many=True), **ADMIN_ERRORS}),
)
class ExchangeRateViewSet(ServiceViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Exchange rates to CNY (administrators only): approval flows compare a contract's amount in CNY at
    the rate valid on the day. A rate applies from `valid_from` until a later one."""

    permission_classes = [IsAuthenticated, ManagesFlows]
    serializer_class = output_serializer = ExchangeRateOutput
    queryset = ExchangeRate.objects.none()

    def get_queryset(self):
        return contract_selectors.exchange_rates()

    @extend_schema(summary="Set the rate of a currency from a day on (the same day again: replaced)",
                   request=ExchangeRateInput, responses={201: ExchangeRateOutput, **ADMIN_ERRORS})
    def create(self, request):
        data = self.validated(ExchangeRateInput, request.data)
        rate = services.exchange_rate_save(actor=request.user, data=data)
        return Response(self.output(rate), status=status.HTTP_201_CREATED)


# --- The approver's tasks --------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(
        summary="Your approval tasks: open ones (longest waiting first) or those you decided (newest first)",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "decided"],
                                     description="open (default): waiting for your decision; decided: decided "
                                                 "or handed on by you")]),
)
class ApprovalTaskViewSet(ServiceViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's approval tasks, each with its contract, step and approval. Decide one with
    POST `/contracts/{id}/approval/decide/`, sending the task's id and `approval_version` as `version`."""

    serializer_class = output_serializer = TaskRowOutput
    queryset = ApprovalTask.objects.none()

    def get_queryset(self):
        query = self.validated(TaskListQuery, self.request.query_params)
        user = self.request.user
        rows = selectors.decided(user=user) if query["status"] == "decided" else selectors.inbox(user=user)
        return rows.select_related("approval__submitted_by")


# --- A contract's approval -------------------------------------------------------------------------------

class ContractApprovalViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """The approval of a contract the user may see (another is 404): its history, the approver's decision
    and the other actions on the approval under way. Every action is recorded in the audit log and tells
    the people concerned (notifications)."""

    serializer_class = output_serializer = ApprovalOutput
    queryset = Contract.objects.none()

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            install_size_limit(request)  # before anything reads the body (a comment's attachment)
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self):
        return contract_selectors.contract_queryset(user=self.request.user)

    def get_object(self):
        return contract_selectors.contract_get(user=self.request.user, pk=self.kwargs["pk"])

    def history(self, contract) -> list:
        approvals = selectors.approvals_of(contract=contract)
        return ApprovalOutput(approvals, many=True, context=self.get_serializer_context()).data

    def _person(self, pk):
        """A user by id, or None for an unknown id (the service answers not_eligible)."""
        return account_selectors.user_list(user=self.request.user).filter(pk=pk).first()

    @extend_schema(operation_id="contracts_approval", summary="The contract's approvals, newest first",
                   description="Each with its flow and flow version, steps (skipped ones say why), every task "
                               "(decisions, comments, checklists, delegations, transfers and added approvers) "
                               "and comments. The running one, if any, is first: its `version` goes with the "
                               "actions below.",
                   responses={200: HISTORY, **ERRORS})
    @action(detail=True, methods=["get"], url_path="approval", url_name="approval", pagination_class=None)
    def approval(self, request, pk=None):
        return Response(self.history(self.get_object()))

    @extend_schema(operation_id="contracts_approval_decide", summary="Decide your task: approve, reject or return",
                   description="approve: the step is done once its mode is satisfied (any: one approver; all: "
                               "everyone), then the next step that applies opens; after the last one the contract "
                               "is approved. reject: the contract goes back to draft (with a comment). return: "
                               "back to the earlier approved step `return_to` (with a comment). A legal or finance "
                               f"review step needs the whole checklist. {VERSION_NOTE}",
                   request=DecideInput, responses={200: HISTORY, **DECIDE_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/decide", url_name="approval-decide",
            pagination_class=None)
    def decide(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(DecideInput, request.data)
        services.approval_decide(actor=request.user, contract=contract, task_id=data["task"],
                                 decision=data["decision"], comment=data["comment"], checklist_data=data["checklist"],
                                 return_to=data["return_to"], expected_version=data.get("version"))
        return Response(self.history(contract))

    @extend_schema(operation_id="contracts_approval_transfer", summary="Hand your open task to someone else",
                   description=f"The new approver (or their delegate, when they are away) gets the task. "
                               f"{VERSION_NOTE}",
                   request=TransferInput, responses={200: HISTORY, **HAND_ON_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/transfer", url_name="approval-transfer",
            pagination_class=None)
    def transfer(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(TransferInput, request.data)
        services.approval_transfer(actor=request.user, contract=contract, task_id=data["task"],
                                   to_user=self._person(data["to"]), comment=data["comment"],
                                   expected_version=data.get("version"))
        return Response(self.history(contract))

    @extend_schema(operation_id="contracts_approval_add_approver", summary="Add an approver before or after you",
                   description=f"before: they decide first, then your task comes back to you; after: they decide "
                               f"once you approved. Their approval is needed whatever the step's mode. "
                               f"{VERSION_NOTE}",
                   request=AddApproverInput, responses={200: HISTORY, **HAND_ON_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/add-approver", url_name="approval-add-approver",
            pagination_class=None)
    def add_approver(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(AddApproverInput, request.data)
        services.approval_add_approver(actor=request.user, contract=contract, task_id=data["task"],
                                       user=self._person(data["user"]), position=data["position"],
                                       comment=data["comment"], expected_version=data.get("version"))
        return Response(self.history(contract))

    @extend_schema(operation_id="contracts_approval_withdraw", summary="Withdraw the contract from approval",
                   description=f"The owner or the submitter, while no approver has decided: the contract goes "
                               f"back to draft. {VERSION_NOTE}",
                   request=WithdrawInput, responses={200: HISTORY, **WITHDRAW_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/withdraw", url_name="approval-withdraw",
            pagination_class=None)
    def withdraw(self, request, pk=None):
        contract = self.get_object()
        data = self.validated(WithdrawInput, request.data)
        services.approval_withdraw(actor=request.user, contract=contract, reason=data["reason"],
                                   expected_version=data.get("version"))
        return Response(self.history(contract))

    @extend_schema(operation_id="contracts_approval_urge", summary="Remind the current approvers",
                   description="The owner or the submitter, at most once an hour per approval. Answers with the "
                               "approval history.",
                   request=None, responses={200: HISTORY, **URGE_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/urge", url_name="approval-urge", pagination_class=None)
    def urge(self, request, pk=None):
        contract = self.get_object()
        services.approval_urge(actor=request.user, contract=contract)
        return Response(self.history(contract))

    @extend_schema(operation_id="contracts_approval_comment", summary="Comment on the approval, with an optional file",
                   description="On the running approval, or the last one. JSON `{text}`, or a multipart form with "
                               "`text` and one file `attachment`, which becomes a document of the contract. Those "
                               "taking part in the approval and the reviewers who see the contract may comment.",
                   request={"application/json": CommentInput, "multipart/form-data": CommentUploadInput},
                   responses={201: CommentOutput, **COMMENT_ERRORS})
    @action(detail=True, methods=["post"], url_path="approval/comments", url_name="approval-comments",
            parser_classes=[JSONParser, MultiPartParser, FormParser])
    def comments(self, request, pk=None):
        contract = self.get_object()
        files = request.FILES.getlist("attachment")  # parses the body first
        if getattr(request._request, "oversize_uploads", None):
            raise too_large_error()
        data = self.validated(CommentInput, _fields(request, "attachment"))
        comment = services.approval_comment(actor=request.user, contract=contract, text=data["text"], files=files)
        return Response(CommentOutput(comment, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], operation_id="contracts_prereview", summary="The contract's latest pre-review",
                   description="What the automated pre-review found, or `{\"run\": null}` when it never ran.",
                   responses={200: PreReviewOutput, **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_prereview_run", summary="Run the pre-review now",
                   description="Its editors and the reviewers who see the contract. Runs the rules in use over the "
                               "contract's facts and its text; the run is kept and audited.",
                   request=None, responses={200: PreReviewOutput, **ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="prereview", url_name="prereview")
    def prereview(self, request, pk=None):
        contract = self.get_object()
        if request.method == "POST":
            if not policies.can_run_prereview(request.user, contract):
                raise permission_denied()
            run = services.prereview_run(actor=request.user, contract=contract)
        else:
            run = selectors.latest_prereview(contract=contract)
        return Response(PreReviewOutput({"run": run}, context=self.get_serializer_context()).data)


# --- Delegations -------------------------------------------------------------------------------------------

def delegations_of(user):
    """The delegations `user` may see and end: their own; an administrator's, everyone's
    (accounts.policies.can_set_delegation)."""
    rows = Delegation.objects.select_related("user", "delegate").order_by("-starts_on", "-id")
    return rows if is_admin(user) else rows.filter(user_id=user.pk)


@extend_schema_view(
    list=extend_schema(
        summary="Your delegations (administrators: anyone's, with `user`), the latest first",
        parameters=[OpenApiParameter("user", OpenApiTypes.INT, description="Whose delegations (administrators); "
                                                                           "default: yours")],
        responses={200: DelegationOutput(many=True), **ERRORS}),
)
class DelegationViewSet(ServiceViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Out of office (delegations): while a user is away, from `starts_on` to `ends_on`, approval tasks meant
    for them go to their delegate, whose decisions are recorded as made on their behalf. Users set their own;
    administrators anyone's. Someone else's delegation is 404 to anyone but an administrator."""

    serializer_class = output_serializer = DelegationOutput
    queryset = Delegation.objects.none()

    def get_queryset(self):
        return delegations_of(self.request.user)

    def list(self, request):
        query = self.validated(DelegationListQuery, request.query_params)
        whose = request.user
        if "user" in query:
            whose = query["user"]
            if not can_set_delegation(request.user, whose):
                raise permission_denied()
        page = self.paginate_queryset(self.get_queryset().filter(user_id=whose.pk))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Set a delegate for days away", request=DelegationInput,
                   responses={201: DelegationOutput, **ERRORS})
    def create(self, request):
        data = self.validated(DelegationInput, request.data)
        delegation = account_services.delegation_create(
            actor=request.user, user=data.get("user", request.user), delegate=data["delegate"],
            starts_on=data["starts_on"], ends_on=data["ends_on"], note=data["note"])
        return Response(self.output(delegation), status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="delegations_end", summary="End a delegation now",
                   description="One under way ends yesterday (200, the delegation); one not begun yet is removed "
                               "(204). Tasks the delegate holds already stay theirs.",
                   request=None, responses={200: DelegationOutput, 204: None, **ERRORS})
    @action(detail=True, methods=["post"], url_path="end", url_name="end")
    def end(self, request, pk=None):
        delegation = account_services.delegation_end(actor=request.user,
                                                     delegation=get_or_404(self.get_queryset(), pk))
        if delegation is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.output(delegation))
