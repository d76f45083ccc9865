from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("percent off")
    AMOUNT = "amount", _("amount off")
    THRESHOLD = "threshold", _("amount off above a spend (满减)")


class CouponChannel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")
    BOTH = "both", _("online and in store")


class CouponDefinition(models.Model):
    """What a coupon is worth and where it works; issued codes are ``Coupon`` rows.

    Scope: when any of categories, collections or products is given, only those pieces
    count towards the discount (a category includes its sub-categories); the exclusions
    always win. Validity: the window (``valid_from`` .. ``valid_until``) and, when
    ``valid_days`` is set, that many days from the issue of each coupon, whichever ends
    first. Limits count redemptions that were not reversed.
    """

    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True,
                                   help_text=_("Shown to members in their wallet."))
    kind = models.CharField(_("kind"), max_length=10, choices=DiscountKind.choices)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2,
                                help_text=_("Percent (e.g. 10) or amount in yuan."))
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2,
                                    default=0,
                                    help_text=_("Of the pieces the coupon covers, in yuan."))
    cap = models.DecimalField(_("maximum discount"), max_digits=12, decimal_places=2,
                              null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=6, choices=CouponChannel.choices,
                               default=CouponChannel.BOTH)
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+",
                                        verbose_name=_("categories"))
    collections = models.ManyToManyField("catalog.Collection", blank=True, related_name="+",
                                         verbose_name=_("collections"))
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+",
                                      verbose_name=_("products"))
    excluded_categories = models.ManyToManyField("catalog.Category", blank=True,
                                                 related_name="+",
                                                 verbose_name=_("excluded categories"))
    excluded_products = models.ManyToManyField("catalog.Product", blank=True, related_name="+",
                                               verbose_name=_("excluded products"))
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("valid for days after issue"), null=True, blank=True,
        help_text=_("Each coupon expires this many days after it is issued."))
    total_limit = models.PositiveIntegerField(_("total limit"), null=True, blank=True,
                                              help_text=_("Redemptions in all; empty: no limit."))
    per_member_limit = models.PositiveIntegerField(_("limit per member"), default=1)
    stacks_with_points = models.BooleanField(_("combines with points"), default=True)
    birthday_tiers = models.ManyToManyField(
        "members.Tier", blank=True, related_name="birthday_coupons",
        verbose_name=_("birthday gift for tiers"),
        help_text=_("Members of these tiers receive one on their birthday (a tier benefit)."))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon definition")
        verbose_name_plural = _("coupon definitions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100),
                                   name="coupon_percent_at_most_100"),
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gt=0),
                                   name="coupon_cap_positive"),
            models.CheckConstraint(condition=Q(min_spend__gte=0),
                                   name="coupon_min_spend_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="coupon_window_ordered"),
        ]

    def __str__(self):
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("issued")
    REDEEMED = "redeemed", _("redeemed")
    VOID = "void", _("void")


class CouponBatch(models.Model):
    """Single-use codes made together, for printing in stores (exported as CSV)."""

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="batches", verbose_name=_("definition"))
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch of printed codes")
        verbose_name_plural = _("batches of printed codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="coupon_batch_not_empty"),
        ]

    def __str__(self):
        return f"{self.definition} x {self.quantity}"


class Coupon(models.Model):
    """An issued code: to a member, single-use and anonymous (printed, ``batch``), or a
    public code many shoppers may type (``max_uses`` empty: only the definition's limits).

    ``uses`` counts redemptions not reversed; it and ``status`` are written only by
    marketing.services under the row's lock."""

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="coupons", verbose_name=_("definition"))
    code = models.CharField(_("code"), max_length=24, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="coupons",
                               verbose_name=_("member"))
    batch = models.ForeignKey(CouponBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="coupons", verbose_name=_("batch"))
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True, default=1,
                                           help_text=_("Empty for a public code."))
    uses = models.PositiveIntegerField(_("uses"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices,
                              default=CouponStatus.ISSUED)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    occasion = models.CharField(_("occasion"), max_length=40, blank=True,
                                help_text=_("For example birthday-2026: issued once per occasion."))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                                   name="coupon_uses_within_max"),
            models.UniqueConstraint(fields=["definition", "member", "occasion"],
                                    condition=~Q(occasion=""), name="coupon_once_per_occasion"),
        ]

    def __str__(self):
        return self.code


class Redemption(models.Model):
    """A coupon used on an order (``reference`` = the order number), online or at a
    counter. Reversed (not deleted) when the order is cancelled or refunded."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions",
                               verbose_name=_("coupon"))
    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="redemptions", verbose_name=_("definition"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="redemptions",
                               verbose_name=_("member"))
    reference = models.CharField(_("order"), max_length=40)
    channel = models.CharField(_("channel"), max_length=6, choices=CouponChannel.choices)
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("store"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    redeemed_at = models.DateTimeField(_("redeemed"))
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("reversed by"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["definition", "member"], name="redemption_def_member")]
        constraints = [
            models.UniqueConstraint(fields=["reference"], condition=Q(reversed_at__isnull=True),
                                    name="redemption_one_coupon_per_order"),
            models.CheckConstraint(condition=Q(discount__gt=0), name="redemption_discount_positive"),
        ]

    def __str__(self):
        return f"{self.coupon} @ {self.reference}"
