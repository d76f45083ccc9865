"""Every app's API under /api/v1/; each app's api.py holds its own urlpatterns (joined by
dotted path, so the kernel imports no app)."""

from django.urls import include, path

urlpatterns = [
    path("", include("catalog.api")),
    path("", include("stores.api")),
    path("", include("members.api")),
    path("", include("orders.api")),
    path("", include("feedback.api")),
]
