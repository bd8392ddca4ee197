from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "qiyue.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from . import events  # noqa: F401  (declares this app's audit actions)
