from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Process entry points (`qiyue serve`, `qiyue worker`, `qiyue demo`) and the demo company: the top
    layer, which may import every app and the settings."""

    name = "qiyue.ops"
    label = "ops"
    verbose_name = _("Operations")
