from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from allauth.account.signals import user_logged_in

        from .receivers import cart_merge_at_login

        user_logged_in.connect(cart_merge_at_login, dispatch_uid="orders.cart_merge_at_login")
        from stores.services import tryon_sales_register

        # Its outbox renderers, and its part of a member's data.
        from . import emails, privacy  # noqa: F401
        from .selectors import sales_for_tryon

        tryon_sales_register(sales_for_tryon)  # the sales a try-on may close with
