from rest_framework.routers import SimpleRouter

from .views import ContractTypeViewSet, ContractViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="api-contract")
router.register("contract-types", ContractTypeViewSet, basename="api-contract-type")

urlpatterns = router.urls
