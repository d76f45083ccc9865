from csp.decorators import csp_exempt
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import bench, health, views

handler404 = "o2o.errors.page_not_found"

admin.site.site_header = admin.site.site_title = _("Jinyuan Jewellery · back office")
admin.site.index_title = _("Stores, orders and members")

# 404 and 500 are Django's own views rendering templates/404.html and 500.html.
handler403 = "o2o.views.permission_denied"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("o2o.api_urls")),
    path("payments/", include("orders.webhook_urls")),
]

# Shopper pages and the admin speak the visitor's language; zh-Hans needs no prefix.
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("catalog.urls")),
    path("", include("stores.urls")),
    path("", include("members.urls")),
    path("", include("orders.urls")),
    path("", include("feedback.urls")),
    path("", include("marketing.urls")),
    path("", include("journeys.urls")),
    prefix_default_language=False,
)

# Development only (DEV_ENDPOINTS, off in production): the bench's bare view, and the
# Swagger page (its script comes from a CDN).
if settings.DEV_ENDPOINTS:
    urlpatterns += [
        path("bench/bare", bench.bare, name="bench-bare"),
        # Its scripts come from a CDN: outside the shop's Content-Security-Policy.
        path("api/docs/", csp_exempt()(SpectacularSwaggerView.as_view(url_name="api-schema")),
             name="api-docs"),
    ]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
