"""One error family for every app (HackSoft's styleguide, Saleor's error codes).

Services raise an ApplicationError subclass with a stable ``code`` and a
translated message; the DRF handler and ``error_response`` below turn it into a
4xx with the reason, so bad input never becomes a 500.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A business rule said no. ``code`` is stable; ``message`` is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str | Promise, *, code: str | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.message), **self.extra}


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404


class ConflictError(ApplicationError):
    """The state moved under the caller (sold out, slot taken, already done)."""

    code = "conflict"
    status = 409


class RateLimited(ApplicationError):
    """Too many tries in a short time (codes guessed, lookups): wait, then try again."""

    code = "rate_limited"
    status = 429


def error_response(error: ApplicationError) -> JsonResponse:
    """For plain Django views that answer JSON."""
    return JsonResponse(error.as_dict(), status=error.status)


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, drf_exceptions.APIException):
        response.data = _error_body(exc, response.data)
    return response


def _error_body(exc: drf_exceptions.APIException, data) -> dict:
    """DRF's own errors in our one shape, ``{"code", "detail"}`` (o2o/api_schema.py):
    field problems under ``fields``, DRF's code (not_authenticated, parse_error,
    method_not_allowed, throttled...) as ``code``."""
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"code": "invalid", "detail": str(_("Please check what you sent.")),
                "fields": fields}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = data.get("detail", exc.detail) if isinstance(data, dict) else exc.detail
    return {"code": "rate_limited" if code == "throttled" else str(code),
            "detail": str(detail)}


def page_not_found(request, exception=None):
    """handler404: under /api/ the API's JSON error (the schema promises JSON there, for
    addresses that match no route too); the shop's 404 page everywhere else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": str(_("Not found."))}, status=404)
    from django.views.defaults import page_not_found as shop_page

    return shop_page(request, exception)


class Outcome:
    """What a service call wrapped in ``reported`` came to."""

    error: ApplicationError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The HTTP status for the page that shows the outcome: the error's, else 200."""
        return self.error.status if self.error is not None else 200


@contextmanager
def reported(request=None, *, form=None, prefix: str = "",
             fields: dict[str, str] | None = None) -> Iterator[Outcome]:
    """The one way from a service error to words on a page (admin screens, forms, shopper
    pages): an ApplicationError raised inside becomes an error on ``form`` (on the field
    ``fields`` names for its code, else the whole form) or, without a form, a message
    for ``request``'s next page; ``prefix`` names what it was about (an order number in
    a bulk action). Anything else propagates::

        with reported(request) as outcome:
            order_cancel(order=order, actor=request.user)
        if outcome.ok:
            messages.success(request, _("Cancelled."))

        with reported(form=form) as outcome:
            ticket_open(...)
        return render(request, template, context, status=outcome.status)
    """
    outcome = Outcome()
    try:
        yield outcome
    except ApplicationError as error:
        outcome.error = error
        text = f"{prefix}: {error.message}" if prefix else str(error.message)
        if form is not None:
            form.add_error((fields or {}).get(error.code), text)
        elif request is not None:
            messages.error(request, text)
