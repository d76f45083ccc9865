"""Serializers of the orders API (orders/api.py). Input serializers only parse; every
change is made by orders.services. Output serializers read the services' results."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from o2o.phone import phone_normalize

from .emails import shows_pickup_code
from .models import Fulfilment, Order, OrderLine
from .services.cart import MAX_LINE_QUANTITY


class OrderErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: sold_out, not_enough_stock, unknown_sku, "
                                           "quantity_invalid, cart_empty, cart_needs_review, "
                                           "address_invalid, store_required, "
                                           "store_lacks_pieces, order_transition_not_allowed...")
    detail = serializers.CharField(help_text="For people, in the request's language")
    fields = serializers.DictField(required=False,
                                   help_text="address_invalid, invalid: each field's problems")


# --- Cart ----------------------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    """One line of the cart as the shopper sees it now (a CartLineView)."""

    sku = serializers.CharField(source="variant.sku")
    product = serializers.CharField(source="product.title")
    product_slug = serializers.CharField(source="product.slug", default="")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                          help_text="Live price now; null: no price today")
    price_seen = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                          help_text="The price the shopper last saw")
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    available = serializers.IntegerField(help_text="Most pieces available at one place")
    price_changed = serializers.BooleanField()
    sold_out = serializers.BooleanField()
    unpriced = serializers.BooleanField()
    blocked = serializers.BooleanField(help_text="Must be looked at before checkout")


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable reason: coupon_expired, coupon_min_spend, "
                                           "coupon_wrong_channel, coupon_out_of_scope, "
                                           "coupon_limit_reached, points_over_limit...")
    detail = serializers.CharField(source="message", help_text="For people")


class CartDiscountsSerializer(serializers.Serializer):
    """What the cart's coupon and points take off now (orders.services.loyalty.Discounts)."""

    coupon_code = serializers.CharField(help_text="The code kept on the cart, or empty")
    coupon_discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    coupon_error = ReasonSerializer(allow_null=True,
                                    help_text="Why the kept code does not apply now")
    points = serializers.IntegerField(help_text="Points that will pay, kept on the cart")
    points_discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_balance = serializers.IntegerField()
    points_max = serializers.IntegerField(help_text="The most points this cart may use")
    points_error = ReasonSerializer(allow_null=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2,
                                     help_text="What will be paid: subtotal less both")


class CartDiscountsInputSerializer(serializers.Serializer):
    coupon_code = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                        help_text="A code to use; empty removes the coupon")
    points = serializers.IntegerField(required=False, min_value=0, max_value=10**9,
                                      help_text="Points to use (members); 0 removes them")


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    count = serializers.IntegerField(help_text="Pieces in the cart")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2,
                                        help_text="Live total of the lines not blocked")
    currency = serializers.CharField()
    needs_review = serializers.BooleanField(
        help_text="A line changed price or sold out: confirm prices / fix it before checkout")
    discounts = CartDiscountsSerializer()


class CartItemAddSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, default=1)


class CartItemQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY,
                                        help_text="0 removes the line")


# --- Checkout ------------------------------------------------------------------------------


class CheckoutSerializer(serializers.Serializer):
    fulfilment = serializers.ChoiceField(choices=[Fulfilment.DELIVERY, Fulfilment.PICKUP])
    store = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                  help_text="Pickup store code (fulfilment pickup)")
    address = serializers.DictField(required=False, allow_empty=True,
                                    help_text="Delivery address (fulfilment delivery): "
                                              "recipient, phone, province, city, district, "
                                              "street, postcode")
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                         default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30,
                                          default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    pay_at_counter = serializers.BooleanField(required=False, default=False,
                                              help_text="Pickup only: pay when collecting")
    language = serializers.ChoiceField(choices=settings.LANGUAGES,
                                       required=False, help_text="For the shopper's emails")
    coupon_code = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                        help_text="A coupon code to redeem on the order "
                                                  "(else the one kept on the cart)")
    points = serializers.IntegerField(required=False, min_value=0, max_value=10**9,
                                      help_text="Points to use (members; else the cart's)")

    def validate_contact_phone(self, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        try:
            return phone_normalize(value)
        except DjangoValidationError:
            raise serializers.ValidationError(
                _("Enter a valid mobile number, for example 138 0013 8000.")) from None


# --- Orders --------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "product_name", "quantity", "unit_price", "line_total"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    store = serializers.SerializerMethodField()
    pickup_code = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = ["number", "status", "status_display", "channel", "fulfilment", "store",
                  "pickup_code", "contact_name", "address", "currency", "subtotal",
                  "discount", "coupon_code", "coupon_discount", "points_redeemed", "points_discount",
                  "total", "placed_at", "paid_at", "expires_at", "completed_at",
                  "lines"]
        read_only_fields = fields

    def get_store(self, order) -> dict | None:
        if order.store is None:
            return None
        return {"code": order.store.code, "name": order.store.title}

    def get_pickup_code(self, order) -> str | None:
        """Shown only while it can open a hand-over (ready, or paying at the counter)."""
        return order.pickup_code if shows_pickup_code(order) else None


class CheckoutResultSerializer(serializers.Serializer):
    order = OrderSerializer()
    payment_url = serializers.CharField(allow_null=True,
                                        help_text="Where to send the shopper to pay; null "
                                                  "when paying at the counter")
    order_url = serializers.CharField(help_text="The order's page (a signed link)")
    payment_error = OrderErrorSerializer(required=False,
                                    help_text="The payment could not be started (the order "
                                              "stands; pay later from its page)")


# --- Answers -------------------------------------------------------------------------------


def _fields_built(serializer: serializers.BaseSerializer) -> None:
    for field in getattr(getattr(serializer, "child", serializer), "fields", {}).values():
        if isinstance(field, serializers.BaseSerializer):
            _fields_built(field)


@functools.cache
def _serializer_once(serializer_class: type[serializers.BaseSerializer]):
    serializer = serializer_class()
    _fields_built(serializer)  # all of them now: later callers only read them
    return serializer


def represent(serializer_class: type[serializers.BaseSerializer], instance) -> dict:
    """``serializer_class(instance).data``, from one instance of the serializer per process.

    DRF builds every field of a serializer (deep copies of the declared ones, and a
    ModelSerializer's derived from the model) for each instance it makes: the most of
    what serialising a cart or a checkout's order cost. ``to_representation`` keeps no
    state, so threads share the one instance. Only for output serializers that read no
    ``context`` (no request, no view)."""
    return _serializer_once(serializer_class).to_representation(instance)
