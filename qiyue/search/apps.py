from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "qiyue.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the index to model saves and document signals)
