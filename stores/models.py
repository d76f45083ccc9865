from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Bilingual


class StoreKind(models.TextChoices):
    STORE = "store", _("store")
    WAREHOUSE = "warehouse", _("warehouse")


class Store(Bilingual):
    """A shop floor or a warehouse: every place stock can be."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=StoreKind.choices,
                            default=StoreKind.STORE)
    city = models.CharField(_("city"), max_length=40)
    city_en = models.CharField(_("city (English)"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6,
                                   null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6,
                                    null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    tryon_seats = models.PositiveSmallIntegerField(_("try-on seats"), default=2)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["kind", "code"]


class OpeningHours(models.Model):
    """A weekday's hours, local to the store (Asia/Shanghai)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hours",
                              verbose_name=_("store"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["store", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday"], name="hours_once_per_weekday"),
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="hours_close_after_open"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class StockLevel(models.Model):
    """Pieces of a variant at a location. ``available`` = on_hand - reserved.

    Changed only by conditional UPDATEs in stores.services; the CHECKs make an
    oversell impossible even for a buggy writer.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock",
                              verbose_name=_("store"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE,
                                related_name="stock_levels", verbose_name=_("variant"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["store", "variant"], name="stock_once_per_place"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                                   name="stock_reserved_within_on_hand"),
        ]

    def __str__(self):
        return f"{self.variant_id}@{self.store_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
