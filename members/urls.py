from django.urls import path

from . import views
from .views_privacy import urlpatterns as privacy_urlpatterns

app_name = "members"

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/profile/", views.profile, name="profile"),
    path("account/addresses/", views.addresses, name="addresses"),
    path("account/addresses/new/", views.address_add, name="address_add"),
    path("account/addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("account/addresses/<int:pk>/delete/", views.address_remove, name="address_delete"),
    path("account/addresses/<int:pk>/default/", views.address_default,
         name="address_default"),
    path("account/points/", views.points, name="points"),
    path("account/consents/", views.consents, name="consents"),
    path("account/coupons/", views.wallet, name="wallet"),
]
urlpatterns += privacy_urlpatterns
