"""Every REST error is JSON with a status that says what went wrong."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler


def json_exception_handler(exc, context):
    """DRF's handler, plus services' Django ValidationError as a 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return exception_handler(exc, context)


def not_found(request, *args, **kwargs):
    """An /api/ path that names nothing: a JSON 404, not Django's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
