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
    """What a coupon is worth and where it works; issued codes are ``Coupon`` rows."""

    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=DiscountKind.choices)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2,
                                help_text=_("Percent (e.g. 10) or amount in yuan."))
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2,
                                    default=0)
    cap = models.DecimalField(_("maximum discount"), max_digits=12, decimal_places=2,
                              null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=6, choices=CouponChannel.choices,
                               default=CouponChannel.BOTH)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    total_limit = models.PositiveIntegerField(_("total limit"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("limit per member"), default=1)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon definition")
        verbose_name_plural = _("coupon definitions")
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100),
                                   name="coupon_percent_at_most_100"),
        ]

    def __str__(self):
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("issued")
    REDEEMED = "redeemed", _("redeemed")
    VOID = "void", _("void")


class Coupon(models.Model):
    """An issued code, to a member or anonymous (printed for a store)."""

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="coupons", verbose_name=_("definition"))
    code = models.CharField(_("code"), max_length=24, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="coupons",
                               verbose_name=_("member"))
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices,
                              default=CouponStatus.ISSUED)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")

    def __str__(self):
        return self.code
