"""The shop's own answers to a refused request: 403 and the CSRF failure, in the
visitor's language (the URL decides it), in the shop's look or the back office's.

Django renders 404.html and 500.html itself once DEBUG is off; 403 goes through
``handler403`` (o2o/urls.py) even with DEBUG on, and a failed CSRF check through
``CSRF_FAILURE_VIEW``, so a shopper never meets Django's yellow page for either.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language


def _in_admin(request: HttpRequest) -> bool:
    path = request.path_info
    return path.startswith("/admin/") or path.startswith(f"/{get_language()}/admin/")


def _render(request: HttpRequest, name: str, context: dict | None = None) -> HttpResponse:
    context = dict(context or {})
    if _in_admin(request):
        context.update(admin.site.each_context(request))
        name = f"admin/{name}"
    response = TemplateResponse(request, name, context, status=403)
    # Rendered now: the handler's caller may not render a lazy response.
    return response.render()


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: the page says what happened and where to go next."""
    return _render(request, "403.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the form's token went stale (a page left open since before a
    sign-in or sign-out, an expired session). Reloading the page gets a fresh one."""
    # Back to the page the form was on (when it was ours), else the home page: the
    # form's own address often answers POST only.
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        retry = referer
    else:
        retry = reverse("admin:index" if _in_admin(request) else "catalog:home")
    return _render(request, "403_csrf.html", {"retry_url": retry})


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on any page (the admin's too) whatever the
    page's own <link rel="icon">: the shop's icon instead of a 404 in every log."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
