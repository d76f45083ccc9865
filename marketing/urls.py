from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("m/o/<str:token>.gif", views.opened, name="open"),
    path("m/c/<str:token>/", views.clicked, name="click"),
    path("m/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/sms-reply/", views.sms_reply, name="sms_reply"),
    path("account/inbox/", views.inbox, name="inbox"),
]
