from rest_framework.routers import SimpleRouter

from .amendments import AmendmentViewSet, ContractAmendmentViewSet
from .views import ContractTypeViewSet, ContractViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="api-contract")
router.register("contract-types", ContractTypeViewSet, basename="api-contract-type")
# /contracts/{id}/amendments/ and /contracts/{id}/versions/…: actions only (the contract itself is above).
router.register("contracts", ContractAmendmentViewSet, basename="api-contract-amendments")
router.register("amendments", AmendmentViewSet, basename="api-amendment")

urlpatterns = router.urls
