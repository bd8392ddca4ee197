from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "qiyue.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from qiyue.core.search_kinds import set_index_queue

        from .tasks import enqueue_index

        # What apps queue with reindex_later after commit goes to the worker's indexing task.
        set_index_queue(enqueue_index)
