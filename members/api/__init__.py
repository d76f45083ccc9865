"""The members API under /api/v1/: the member's own account (me.py) and coupons
(coupons.py: the wallet and "does this code apply?")."""

from django.urls import path

from .coupons import CouponCheckView, MyCouponsView
from .me import MeView, MyPointsView

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("me/points/", MyPointsView.as_view(), name="api-me-points"),
    path("me/coupons/", MyCouponsView.as_view(), name="api-my-coupons"),
    path("coupons/check/", CouponCheckView.as_view(), name="api-coupon-check"),
]
