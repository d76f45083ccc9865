"""Every app's API under /api/v1/; each app's api.py holds its own urlpatterns."""

from django.urls import include, path

from members import api as members_api

urlpatterns = [
    path("", include("catalog.api")),
    path("", include("stores.api")),
    path("", include("orders.api")),
    path("", include("marketing.api")),
    path("me/", members_api.MeView.as_view(), name="api-me"),
    path("me/points/", members_api.MyPointsView.as_view(), name="api-me-points"),
]
