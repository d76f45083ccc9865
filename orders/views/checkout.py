"""Pages: see orders/urls.py."""

urlpatterns: list = []
