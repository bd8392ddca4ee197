from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from django.views.defaults import server_error as page_server_error

from .api import error_body
from .errors import ErrorCode


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """API paths answer 404 in the API's error shape; pages get the normal 404 page."""
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, _("Not found.")), status=404)
    return page_not_found(request, exception)


def server_error(request):
    """An unhandled exception (DEBUG off): API paths answer 500 in the API's error shape, pages get the
    normal 500 page. DRF re-raises what its exception handler does not know, so this is where an API
    crash ends up, after Django has logged it with its traceback (the `django.request` logger)."""
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.SERVER_ERROR,
                                       _("Something went wrong on the server. The error has been logged; "
                                         "please try again later.")), status=500)
    return page_server_error(request)
