from django.urls import path

from . import views

app_name = "stores"

urlpatterns = [
    path("stores/", views.store_list, name="list"),
    path("stores/<slug:code>/", views.store_detail, name="detail"),
    path("try-on/book/", views.appointment_book, name="appointment_book"),
    path("account/try-ons/", views.my_appointments, name="my_appointments"),
    path("try-on/<str:token>/", views.appointment_manage, name="appointment_manage"),
    path("try-on/<str:token>/calendar.ics", views.appointment_calendar,
         name="appointment_calendar"),
    path("try-on/<str:token>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("try-on/<str:token>/reschedule/", views.appointment_reschedule,
         name="appointment_reschedule"),
]
