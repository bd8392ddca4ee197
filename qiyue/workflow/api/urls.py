from rest_framework.routers import SimpleRouter

from .views import (
    ApprovalFlowViewSet,
    ApprovalTaskViewSet,
    ContractApprovalViewSet,
    DelegationViewSet,
    ExchangeRateViewSet,
)

router = SimpleRouter()
router.register("approval-flows", ApprovalFlowViewSet, basename="api-approval-flow")
router.register("exchange-rates", ExchangeRateViewSet, basename="api-exchange-rate")
router.register("approval-tasks", ApprovalTaskViewSet, basename="api-approval-task")
router.register("delegations", DelegationViewSet, basename="api-delegation")
# /contracts/{id}/approval/… and /contracts/{id}/prereview/: actions only (the contract itself is
# qiyue.contracts.api's).
router.register("contracts", ContractApprovalViewSet, basename="api-contract-approval")

urlpatterns = router.urls
