"""Strict query parameters for the API: a filter the endpoint does not have, or a value
it cannot read, is a 400 naming the parameter, never a 200 that quietly ignored it
(``/api/v1/products/?min_price=abc`` once listed everything)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

# Parameters every list may carry besides its filters: pagination and DRF's format.
ALWAYS_ALLOWED = frozenset({"page", "format"})


def query_params_check(query_params, allowed: Iterable[str]) -> None:
    """ValidationError (400) naming each parameter of ``query_params`` not in ``allowed``."""
    known = set(allowed) | ALWAYS_ALLOWED
    unknown = sorted(name for name in query_params if name not in known)
    if unknown:
        names = ", ".join(sorted(known - ALWAYS_ALLOWED)) or "-"
        raise ValidationError({name: [_("There is no filter “%(name)s” here. Filters: "
                                        "%(names)s.") % {"name": name, "names": names}]
                               for name in unknown})


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend (an invalid value is already a 400 naming the filter) that
    also refuses parameters which are no filter of the endpoint."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        allowed = set(filterset_class.base_filters) if filterset_class else set()
        query_params_check(request.query_params, allowed)
        return super().filter_queryset(request, queryset, view)
