import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from o2o.audit import AuditEvent
from o2o.money import money


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
    address = models.JSONField(
        _("delivery address"), default=dict, blank=True,
        help_text=_("Recipient, phone, province, city, district, street and postcode."))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2,
                                   default=Decimal("0"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2,
                                   default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    coupon_code = models.CharField(_("coupon"), max_length=24, blank=True)
    coupon_discount = models.DecimalField(_("coupon discount"), max_digits=12, decimal_places=2,
                                          default=Decimal("0"))
    points_redeemed = models.PositiveIntegerField(_("points used"), default=0)
    points_discount = models.DecimalField(_("paid with points"), max_digits=12, decimal_places=2,
                                          default=Decimal("0"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE,
                                help_text=_("The shopper's language, for emails."))
    pay_at_counter = models.BooleanField(
        _("paid at the counter"), default=False,
        help_text=_("A pickup the shopper pays when collecting it; the pieces are held for "
                    "a few days."))
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
                condition=Q(discount=F("coupon_discount") + F("points_discount")),
                name="order_discount_is_coupon_and_points"),
            models.CheckConstraint(
                condition=~Q(fulfilment__in=["pickup", "counter"]) | Q(store__isnull=False),
                name="order_pickup_has_store",
            ),
            models.UniqueConstraint(fields=["store", "pickup_code"], condition=~Q(pickup_code=""),
                                    name="order_pickup_code_unique_per_store"),
            models.CheckConstraint(condition=Q(pay_at_counter=False) | Q(fulfilment="pickup"),
                                   name="order_pay_at_counter_is_a_pickup"),
        ]
        indexes = [
            # Every checkout's hold check (services.checkout._holds_held) counts the
            # contact's unpaid orders by mobile number or email: without these it read
            # every order ever placed, under the contact's lock.
            models.Index(fields=["contact_phone"], name="order_unpaid_by_phone",
                         condition=Q(status=OrderStatus.PENDING_PAYMENT)),
            models.Index(Upper("contact_email"), name="order_unpaid_by_email",
                         condition=Q(status=OrderStatus.PENDING_PAYMENT)),
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
        return f"{self.get_provider_display()} {money(self.amount)}"


class OrderEventKind(models.TextChoices):
    PLACED = "placed", _("placed")
    STATUS = "status", _("status changed")
    IMPORTED = "imported", _("imported")
    PAYMENT_STARTED = "payment_started", _("payment started")
    PAYMENT_FAILED = "payment_failed", _("payment failed")
    PAYMENT_MISMATCH = "payment_mismatch", _("payment refused")
    LATE_PAYMENT = "late_payment", _("late payment refunded")
    REFUND = "refund", _("refund asked")
    REFUND_SUCCEEDED = "refund_succeeded", _("refund made")
    REFUND_FAILED = "refund_failed", _("refund failed")
    MEMBER_ERASED = "member_erased", _("shopper's data erased")


class OrderEvent(AuditEvent):
    """The audit trail of an order: who did what, when (Saleor's order events); written by
    orders.events, shown to staff as sentences (``describe``)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events",
                              verbose_name=_("order"))
    kind = models.CharField(_("event"), max_length=40, choices=OrderEventKind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()}"

    def describe(self) -> str:
        from .events import order_event_sentence  # the sentences use the app's labels

        return order_event_sentence(self)


class PaymentEvent(models.Model):
    """A provider's notice (a Stripe webhook event), processed exactly once: the UNIQUE
    (provider, event id) refuses a replay before anything else happens."""

    provider = models.CharField(_("provider"), max_length=10, choices=PaymentProvider.choices)
    event_id = models.CharField(_("event id"), max_length=100)
    kind = models.CharField(_("event"), max_length=60)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="payment_events", verbose_name=_("order"))
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    received_at = models.DateTimeField(pgettext_lazy("date", "received"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"],
                                    name="payment_event_once"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class Refund(models.Model):
    """Money given back on a payment (through the provider, or in cash at the counter)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds",
                                verbose_name=_("payment"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=100, blank=True,
                                 help_text=_("The provider's refund id."))
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices,
                              default=RefundStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return f"{money(self.amount)} ({self.get_status_display()})"


class Cart(models.Model):
    """A shopper's cart: a member's (kept across devices) or a guest's (its token in the
    session). Lines hold what was chosen and the price the shopper last saw; the price
    charged always comes from catalog.pricing at checkout."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="cart",
                                  verbose_name=_("member"))
    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True, editable=False)
    coupon_code = models.CharField(_("coupon"), max_length=24, blank=True)
    points = models.PositiveIntegerField(_("points to use"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self):
        return str(self.token)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines",
                             verbose_name=_("cart"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("variant"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    price_seen = models.DecimalField(_("price seen"), max_digits=12, decimal_places=2,
                                     null=True, blank=True,
                                     help_text=_("The price the shopper last saw for it."))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_once_per_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.variant_id}"


class TicketKind(models.TextChoices):
    RETURN = "return", _("return")
    EXCHANGE = "exchange", _("exchange")
    RESIZE = "resize", _("resizing")
    REPAIR = "repair", _("repair")
    CLEANING = "cleaning", _("cleaning")
    APPRAISAL = "appraisal", _("appraisal")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("opened")
    RECEIVED = "received", _("piece received")
    IN_PROGRESS = "in_progress", _("in progress")
    READY = "ready", _("ready to collect")
    CLOSED = "closed", _("closed")
    REFUSED = "refused", _("refused")


class ServiceTicket(models.Model):
    """After-sales: a return, exchange, resizing, repair, cleaning or appraisal, opened by
    a member online or by staff in store. ``status`` is written only by the services."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("service"), max_length=10, choices=TicketKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=TicketStatus.choices,
                              default=TicketStatus.OPEN)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="tickets", verbose_name=_("order"))
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="tickets", verbose_name=_("piece"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="service_tickets",
                               verbose_name=_("member"))
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="service_tickets", verbose_name=_("store"))
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("mobile number"), max_length=20, blank=True)
    description = models.TextField(_("what is wanted"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("refund"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("handled by"))
    created_at = models.DateTimeField(pgettext_lazy("date", "opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(pgettext_lazy("date", "closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("service ticket")
        verbose_name_plural = _("service tickets")
        ordering = ["-created_at"]

    def __str__(self):
        return self.number


class ServiceTicketEvent(AuditEvent):
    """The ticket's history, shown to the shopper: each status with who, when and a note.
    A ticket's trail speaks in its statuses, so ``status`` stands for the base's ``kind``."""

    ticket = models.ForeignKey(ServiceTicket, on_delete=models.CASCADE, related_name="events",
                               verbose_name=_("service ticket"))
    kind = None
    status = models.CharField(_("status"), max_length=12, choices=TicketStatus.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta(AuditEvent.Meta):
        verbose_name = _("service ticket event")
        verbose_name_plural = _("service ticket events")

    def __str__(self):
        return f"{self.ticket_id} {self.get_status_display()}"

    def describe(self) -> str:
        status = self.get_status_display()
        return f"{status}: {self.note}" if self.note else str(status)


class PickupDesk(Order):
    """No table of its own: the admin index's entry for the pickup desk."""

    class Meta:
        proxy = True
        verbose_name = _("pickup desk")
        verbose_name_plural = _("pickup desk")


class CounterSale(Order):
    """No table of its own: the admin index's entry for ringing up a sale."""

    class Meta:
        proxy = True
        verbose_name = _("counter sale")
        verbose_name_plural = _("ring up a sale")
