"""Every app's API under /api/v1/; each app owns its router in its api.py."""

from django.urls import path

from members import api as members_api

urlpatterns = [
    path("me/", members_api.MeView.as_view(), name="api-me"),
]
