"""The interactive API docs page (the schema and the page answer only who ApiDocsAccess lets in)."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions

from .api import ApiDocsAccess


class ApiDocsPage(SpectacularSwaggerSplitView):
    """A browser page: a visitor who is not signed in goes to the log-in page (and back here after),
    as on every other page, instead of an error rendered as HTML."""

    permission_classes = [ApiDocsAccess]

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
