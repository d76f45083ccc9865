"""The orders API under /api/v1/: cart, checkout, own orders."""

urlpatterns: list = []
