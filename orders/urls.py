"""The shopper's order pages (language-prefixed, see o2o/urls.py)."""

from .views import account, cart, checkout, payments, tickets

app_name = "orders"

urlpatterns = [
    *cart.urlpatterns,
    *checkout.urlpatterns,
    *payments.urlpatterns,
    *account.urlpatterns,
    *tickets.urlpatterns,
]
