from rest_framework.routers import SimpleRouter

from .views import (
    ContractMoneyViewSet,
    InvoiceViewSet,
    IssueViewSet,
    ObligationViewSet,
    PaymentViewSet,
    ReceivableViewSet,
)

router = SimpleRouter()
# /contracts/{id}/money/, …/payment-plan/, …/payments/ and …/obligations/: actions only (the contract
# itself is qiyue.contracts.api's).
router.register("contracts", ContractMoneyViewSet, basename="api-contract-money")
router.register("payments", PaymentViewSet, basename="api-payment")
router.register("obligations", ObligationViewSet, basename="api-obligation")
router.register("invoices", InvoiceViewSet, basename="api-invoice")
router.register("issues", IssueViewSet, basename="api-issue")
router.register("receivables", ReceivableViewSet, basename="api-receivable")

urlpatterns = router.urls
