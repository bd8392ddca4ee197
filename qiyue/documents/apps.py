from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "qiyue.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from qiyue.core.search_kinds import register_search_kind

        from . import events, jobs  # noqa: F401  (events declares this app's audit actions)
        from .search import DOCUMENT_KIND

        register_search_kind(DOCUMENT_KIND)
        # Pillow's own guard, behind the explicit checks: opening an image over twice the limit fails.
        from django.conf import settings
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = settings.QIYUE_MAX_IMAGE_PIXELS
        jobs.register()
