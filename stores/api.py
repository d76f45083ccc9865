"""The app's read/write API (DRF). Thin: parse, call a service or selector, serialise."""

urlpatterns: list = []
