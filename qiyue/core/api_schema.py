"""How the OpenAPI schema describes each operation (DRF's DEFAULT_SCHEMA_CLASS). Kept apart from
api_docs.py, which imports drf-spectacular's views: they import the schema class in turn."""

import inspect

from django.utils import translation
from drf_spectacular.openapi import AutoSchema

# Summaries of the generic operations that declare none, from the model's names (in English).
GENERIC_SUMMARIES = {
    "list": "List {plural}",
    "create": "Create a {name}",
    "retrieve": "One {name}",
    "update": "Replace a {name} (every field)",
    "partial_update": "Change a {name} (the fields sent)",
    "destroy": "Delete a {name}",
}


class IntegratorSchema(AutoSchema):
    """The schema speaks to integrators. An operation's description is what was written for them: its
    own `extend_schema`, the docstring of an action defined on the view itself, or the view class's
    own docstring; never a base class's or a mixin's (those explain the code, and drf-spectacular
    would inherit them). An operation without a summary gets one from its model's English name."""

    def get_description(self) -> str:
        view_class = type(self.view)
        name = getattr(self.view, "action", None) or self.method.lower()
        method = view_class.__dict__.get(name)
        doc = getattr(method, "__doc__", None) or view_class.__dict__.get("__doc__") or ""
        return inspect.cleandoc(doc)

    def get_summary(self) -> str | None:
        template = GENERIC_SUMMARIES.get(getattr(self.view, "action", None) or "")
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if template is None or model is None:
            return None
        with translation.override("en"):
            return template.format(name=str(model._meta.verbose_name), plural=str(model._meta.verbose_name_plural))
