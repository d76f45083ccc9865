"""Analytics: the events of the loop, the facts copied from the apps below (one row per
order, order line and refund), and the rollups the dashboards read.

Facts and rollups are a reporting copy: plain ids rather than foreign keys (a report
never blocks a deletion below, and bulk loads stay cheap), written only by
analytics.services (the fold of changed orders, the rebuild of a range of days, the
nightly snapshots). A rollup row is one cell, e.g. day x store x channel; a measure that
adds up (revenue, units, orders of that cell) may be summed across cells. Counts of
distinct people (active members, visitors over a period) are never stored in cells that
would be summed: they are counted from the facts (``OrderFact``) or stated per day
("visits" are visitor-days). See docs/decisions.md, "Dashboards".
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ZERO = Decimal("0")


def _money(verbose_name):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, default=ZERO)


class Event(models.Model):
    """One thing that happened in the O2O loop (a view, a booking, a pickup...).

    Written through ``analytics.services.event_record`` only; append-only.
    """

    kind = models.CharField(_("kind"), max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", verbose_name=_("member"))
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    product_id = models.BigIntegerField(_("product"), null=True, blank=True)
    store_id = models.BigIntegerField(_("store"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["kind", "at"], name="event_kind_at")]

    def __str__(self):
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class SalesChannel(models.TextChoices):
    """How a sale reached its shopper: the order's fulfilment, in the words of a report."""

    DELIVERY = "delivery", _("online, delivered")
    PICKUP = "pickup", _("online, collected in store")
    COUNTER = "counter", _("at the counter")


class Device(models.TextChoices):
    DESKTOP = "desktop", _("computer")
    MOBILE = "mobile", pgettext_lazy("device", "phone")
    TABLET = "tablet", _("tablet")
    APP = "app", _("app or API")
    STORE = "store", _("in store")
    UNKNOWN = "", _("unknown")


# --- What changed, waiting to be folded in --------------------------------------------


class DirtyOrder(models.Model):
    """An order whose facts must be computed again: marked in the transaction of the change
    (analytics.receivers, on the order's audit row), claimed by the fold with SKIP LOCKED."""

    order_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order to fold")
        verbose_name_plural = _("orders to fold")

    def __str__(self):
        return str(self.order_id)


class OrderDevice(models.Model):
    """The device an online order was placed from (the checkout request's browser)."""

    order_id = models.BigIntegerField(primary_key=True)
    device = models.CharField(_("device"), max_length=8, choices=Device.choices, blank=True)

    class Meta:
        verbose_name = _("order device")
        verbose_name_plural = _("order devices")

    def __str__(self):
        return f"{self.order_id}: {self.device}"


# --- Facts ----------------------------------------------------------------------------


class OrderFact(models.Model):
    """One order as the reports count it. A sale on ``paid_on`` (shop time); the funnel
    counts it on ``placed_on``; ``handed_over_on`` when the pieces reached the shopper."""

    order_id = models.BigIntegerField(primary_key=True)
    placed_on = models.DateField()
    paid_on = models.DateField(null=True)
    handed_over_on = models.DateField(null=True)
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    member_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)
    device = models.CharField(max_length=8, blank=True)
    total = _money(_("revenue"))
    subtotal = _money(_("subtotal"))
    coupon_discount = _money(_("coupon discount"))
    points_discount = _money(_("paid with points"))
    units = models.IntegerField(default=0)
    refunded = _money(_("refunded"))

    class Meta:
        verbose_name = _("order fact")
        verbose_name_plural = _("order facts")
        indexes = [
            models.Index(fields=["paid_on", "store_id"], include=["channel", "member_id"],
                         name="orderfact_paid"),
            models.Index(fields=["store_id", "paid_on"], name="orderfact_store_paid"),
            models.Index(fields=["member_id", "paid_on"], name="orderfact_member"),
            models.Index(fields=["placed_on"], name="orderfact_placed"),
        ]

    def __str__(self):
        return str(self.order_id)


class OrderLineFact(models.Model):
    """A piece sold (a line of a paid order), with its share of the order's discounts,
    its gold weight and its cost (the variant's cost price when the line was folded)."""

    line_id = models.BigIntegerField(primary_key=True)
    order_id = models.BigIntegerField(db_index=True)
    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    variant_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    metal = models.CharField(max_length=10, blank=True)
    collection_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    units = models.IntegerField()
    gross = _money(_("before discounts"))
    revenue = _money(_("revenue"))
    gold_g = models.DecimalField(max_digits=14, decimal_places=3, default=ZERO)
    cost = _money(_("cost of goods sold"))
    cost_known = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("order line fact")
        verbose_name_plural = _("order line facts")
        indexes = [
            models.Index(fields=["day", "store_id"], name="linefact_day"),
            models.Index(fields=["store_id", "variant_id", "day"], name="linefact_store_variant"),
            models.Index(fields=["variant_id", "day"], name="linefact_variant"),
        ]

    def __str__(self):
        return str(self.line_id)


class RefundFact(models.Model):
    """Money given back (a succeeded refund), on the day it was asked."""

    refund_id = models.BigIntegerField(primary_key=True)
    order_id = models.BigIntegerField(db_index=True)
    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    amount = _money(_("refunded"))

    class Meta:
        verbose_name = _("refund fact")
        verbose_name_plural = _("refund facts")
        indexes = [models.Index(fields=["day"], name="refundfact_day")]

    def __str__(self):
        return str(self.refund_id)


# --- Rollups: one row per cell ---------------------------------------------------------


class SalesDay(models.Model):
    """Sales of a day at a store through a channel (store empty: delivered from the
    online shelf). Each order is in exactly one cell, so orders add up across cells."""

    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    orders = models.IntegerField(default=0)
    units = models.IntegerField(default=0)
    revenue = _money(_("revenue"))
    subtotal = _money(_("subtotal"))
    coupon_discount = _money(_("coupon discount"))
    points_discount = _money(_("paid with points"))

    class Meta:
        verbose_name = _("sales of a day")
        verbose_name_plural = _("sales by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "channel"], nulls_distinct=False,
                                    name="salesday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel}"


class SalesLineDay(models.Model):
    """Pieces sold: day x store x channel x category x metal (no order counts here: an
    order with pieces of two categories is in two cells)."""

    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    category_id = models.BigIntegerField()
    metal = models.CharField(max_length=10, blank=True)
    units = models.IntegerField(default=0)
    gross = _money(_("before discounts"))
    revenue = _money(_("revenue"))
    gold_g = models.DecimalField(max_digits=14, decimal_places=3, default=ZERO)
    cost = _money(_("cost of goods sold"))
    cost_unknown_units = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("pieces sold in a day")
        verbose_name_plural = _("pieces sold by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "channel", "category_id", "metal"],
                                    nulls_distinct=False, name="saleslineday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel} {self.category_id} {self.metal}"


class SalesCollectionDay(models.Model):
    """Pieces sold by collection (a piece in two collections counts in both)."""

    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    collection_id = models.BigIntegerField()
    units = models.IntegerField(default=0)
    revenue = _money(_("revenue"))

    class Meta:
        verbose_name = _("collection sales of a day")
        verbose_name_plural = _("collection sales by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "channel", "collection_id"],
                                    nulls_distinct=False, name="salescollectionday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel} {self.collection_id}"


class RefundDay(models.Model):
    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices)
    refunds = models.IntegerField(default=0)
    amount = _money(_("refunded"))

    class Meta:
        verbose_name = _("refunds of a day")
        verbose_name_plural = _("refunds by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "channel"], nulls_distinct=False,
                                    name="refundday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel}"


class FunnelDay(models.Model):
    """The shop's visits of a day by device: product views and the visitors who viewed,
    added to the bag and started the checkout. A visitor counts once a day (a "visit")."""

    day = models.DateField()
    device = models.CharField(max_length=8, choices=Device.choices, blank=True)
    views = models.IntegerField(default=0)
    viewers = models.IntegerField(default=0)
    adds = models.IntegerField(default=0)
    adders = models.IntegerField(default=0)
    checkouts = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("visits of a day")
        verbose_name_plural = _("visits by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "device"], name="funnelday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.device}"


class TryonDay(models.Model):
    """Try-ons of a day (by start) at a store, by the staff member who served them."""

    day = models.DateField()
    store_id = models.BigIntegerField()
    staff_id = models.BigIntegerField(null=True)
    booked = models.IntegerField(default=0)
    checked_in = models.IntegerField(default=0)
    no_show = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    bought = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("try-ons of a day")
        verbose_name_plural = _("try-ons by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "staff_id"], nulls_distinct=False,
                                    name="tryonday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.staff_id}"


class MemberDay(models.Model):
    """New members of a day by where they joined (store empty: on the web)."""

    day = models.DateField()
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10)
    new_members = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("new members of a day")
        verbose_name_plural = _("new members by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "channel"], nulls_distinct=False,
                                    name="memberday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel}"


class StockDay(models.Model):
    """Stock at the end of a day at a place, by category: pieces and their value at cost,
    split by age since arrival (under 6, 6 to 12, over 12 months)."""

    day = models.DateField()
    store_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    units = models.IntegerField(default=0)
    value = _money(_("value at cost"))
    units_young = models.IntegerField(default=0)
    value_young = _money(_("under 6 months"))
    units_mid = models.IntegerField(default=0)
    value_mid = _money(_("6 to 12 months"))
    units_old = models.IntegerField(default=0)
    value_old = _money(_("over 12 months"))

    class Meta:
        verbose_name = _("stock of a day")
        verbose_name_plural = _("stock by day")
        constraints = [
            models.UniqueConstraint(fields=["day", "store_id", "category_id"],
                                    name="stockday_cell"),
        ]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.category_id}"


class CohortCell(models.Model):
    """Members whose first purchase (within the scope: the whole chain, or one store; a
    channel, or every one) was in ``cohort`` and who bought in ``month``. Rebuilt nightly
    from the order facts: the chain's cohorts read whole would take a second."""

    store_id = models.BigIntegerField(null=True)  # empty: the whole chain
    channel = models.CharField(max_length=10, blank=True)  # "", online or a SalesChannel
    cohort = models.DateField()
    month = models.DateField()
    members = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        constraints = [
            models.UniqueConstraint(fields=["store_id", "channel", "cohort", "month"],
                                    nulls_distinct=False, name="cohortcell_cell"),
        ]

    def __str__(self):
        return f"{self.store_id} {self.channel} {self.cohort} {self.month}"


class TierMove(models.Model):
    """Members whose tier at the end of ``month`` differs from the month before, by
    their store (home store, else where they joined; empty: neither)."""

    month = models.DateField()  # the first day of the month
    store_id = models.BigIntegerField(null=True)
    from_tier_id = models.BigIntegerField(null=True)
    to_tier_id = models.BigIntegerField(null=True)
    members = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("tier move")
        verbose_name_plural = _("tier moves")
        constraints = [
            models.UniqueConstraint(fields=["month", "store_id", "from_tier_id", "to_tier_id"],
                                    nulls_distinct=False, name="tiermove_cell"),
        ]

    def __str__(self):
        return f"{self.month} {self.from_tier_id}->{self.to_tier_id}"


class TierState(models.Model):
    """Each member's tier at the end of the last month folded into TierMove."""

    member_id = models.BigIntegerField(primary_key=True)
    tier_id = models.BigIntegerField(null=True)
    month = models.DateField()

    class Meta:
        verbose_name = _("member's tier at a month end")
        verbose_name_plural = _("members' tiers at month ends")

    def __str__(self):
        return f"{self.member_id}: {self.tier_id}"


class PlaceCell(models.Model):
    """Members by where they live (their address book, else their last delivery) and by
    their store; ``buyers`` bought in the 12 months before ``as_of``. Rebuilt nightly."""

    city = models.CharField(max_length=30)
    district = models.CharField(max_length=30, blank=True)
    store_id = models.BigIntegerField(null=True)
    members = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)
    as_of = models.DateField()

    class Meta:
        verbose_name = _("members of a place")
        verbose_name_plural = _("members by place")
        constraints = [
            models.UniqueConstraint(fields=["city", "district", "store_id"], nulls_distinct=False,
                                    name="placecell_cell"),
        ]

    def __str__(self):
        return f"{self.city} {self.district} {self.store_id}"


class Dashboard(SalesDay):
    """No table of its own: the admin index's entry for the dashboards, and their
    permission (``analytics.view_dashboard``)."""

    class Meta:
        proxy = True
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")
