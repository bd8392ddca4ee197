from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "qiyue.workflow"
    label = "workflow"
    verbose_name = _("Review and approval")

    def ready(self):
        from qiyue.contracts.signals import amendment_submitted, contract_transitioned

        from . import events, notices, services  # noqa: F401  (the audit actions, the notification kinds)

        contract_transitioned.connect(services.on_contract_transitioned, dispatch_uid="workflow.on_transitioned")
        amendment_submitted.connect(services.on_amendment_submitted, dispatch_uid="workflow.on_amendment")
