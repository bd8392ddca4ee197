from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from .api import error_body
from .errors import ErrorCode


def not_found(request, exception=None):
    """API paths answer 404 in the API's error shape; pages get the normal 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, _("Not found.")), status=404)
    return page_not_found(request, exception)
