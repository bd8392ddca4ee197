from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "qiyue.workflow"
    label = "workflow"
    verbose_name = _("Review and approval")

    def ready(self):
        from qiyue.contracts.signals import contract_transitioned

        from . import events, services  # noqa: F401  (the audit actions)

        contract_transitioned.connect(services.prereview_on_submit, dispatch_uid="workflow.prereview_on_submit")
