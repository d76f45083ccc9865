from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("awaiting payment")
    PAID = "paid", _("paid")
    READY_FOR_PICKUP = "ready_for_pickup", _("ready for pickup")
    COLLECTED = "collected", _("collected")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")
    PARTIALLY_REFUNDED = "partially_refunded", _("partially refunded")
    REFUNDED = "refunded", _("refunded")


class OrderChannel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", _("delivery")
    PICKUP = "pickup", _("pickup in store")
    COUNTER = "counter", _("taken at the counter")


class OrderQuerySet(models.QuerySet):
    def paid(self):
        return self.exclude(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED])


class Order(models.Model):
    """Every sale, whatever the channel. ``status`` is written only by orders.services."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=OrderChannel.choices)
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices,
                              default=OrderStatus.PENDING_PAYMENT)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="orders",
                               verbose_name=_("member"))
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="orders", verbose_name=_("store"),
                              help_text=_("Pickup store, or the store of a counter sale."))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("served by"))
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("mobile number"), max_length=20, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2,
                                   default=Decimal("0"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2,
                                   default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE,
                                help_text=_("The shopper's language, for emails."))
    pickup_code = models.CharField(_("pickup code"), max_length=8, blank=True,
                                   help_text=_("Shown to the shopper; opens the order only at "
                                               "its own pickup store."))
    expires_at = models.DateTimeField(
        _("unpaid until"), null=True, blank=True, db_index=True,
        help_text=_("An unpaid order is cancelled at this time and its pieces released."))
    placed_at = models.DateTimeField(_("placed"), db_index=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(total=F("subtotal") - F("discount")),
                                   name="order_total_is_subtotal_less_discount"),
            models.CheckConstraint(condition=Q(total__gte=0) & Q(discount__gte=0),
                                   name="order_amounts_not_negative"),
            models.CheckConstraint(
                condition=~Q(fulfilment__in=["pickup", "counter"]) | Q(store__isnull=False),
                name="order_pickup_has_store",
            ),
            models.UniqueConstraint(fields=["store", "pickup_code"], condition=~Q(pickup_code=""),
                                    name="order_pickup_code_unique_per_store"),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    """A piece sold; price and names frozen at order time."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("variant"))
    product_name = models.CharField(_("product"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=40)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(line_total=F("unit_price") * F("quantity")),
                                   name="order_line_total"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"


class PaymentProvider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    TEST = "test", _("test gateway")
    CASH = "cash", _("cash")
    CARD_TERMINAL = "card", _("card terminal")
    ALIPAY = "alipay", _("Alipay (terminal)")
    WECHAT = "wechat", _("WeChat Pay (terminal)")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    REFUNDED = "refunded", _("refunded")


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments",
                              verbose_name=_("order"))
    provider = models.CharField(_("provider"), max_length=10, choices=PaymentProvider.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True,
                                 help_text=_("Provider intent id or terminal slip number."))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices,
                              default=PaymentStatus.PENDING)
    refunded_amount = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2,
                                          default=Decimal("0"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount"),
            # An online payment is recorded once, however often its notice arrives.
            models.UniqueConstraint(fields=["provider", "reference"],
                                    condition=Q(provider__in=["stripe", "test"]) & ~Q(reference=""),
                                    name="payment_online_reference_unique"),
        ]

    def __str__(self):
        return f"{self.provider} {self.amount} {self.currency}"


class OrderEvent(models.Model):
    """The audit trail of an order: who did what, when (Saleor's order events)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events",
                              verbose_name=_("order"))
    kind = models.CharField(_("event"), max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.order_id} {self.kind}"
