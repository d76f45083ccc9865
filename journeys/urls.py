from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("account/gold-alerts/", views.gold_alerts, name="gold_alerts"),
    path("account/care/", views.care_booking, name="care_booking"),
]
