from rest_framework.routers import SimpleRouter

from .views import DocumentVersionViewSet, DocumentViewSet, PaperLoanViewSet, PaperOriginalViewSet

router = SimpleRouter()
router.register("documents", DocumentViewSet, basename="api-document")
router.register("document-versions", DocumentVersionViewSet, basename="api-document-version")
router.register("paper-originals", PaperOriginalViewSet, basename="api-paper-original")
router.register("paper-loans", PaperLoanViewSet, basename="api-paper-loan")

urlpatterns = router.urls
