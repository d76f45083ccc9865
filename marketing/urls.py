"""The member's coupon pages (language-prefixed, see o2o/urls.py)."""

from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("account/coupons/", views.wallet, name="wallet"),
]
