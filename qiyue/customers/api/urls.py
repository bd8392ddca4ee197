from rest_framework.routers import SimpleRouter

from .views import CommunicationViewSet, ContactViewSet, CustomerViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="api-customer")
router.register("contacts", ContactViewSet, basename="api-contact")
router.register("communications", CommunicationViewSet, basename="api-communication")

urlpatterns = router.urls
