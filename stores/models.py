from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import Bilingual
from o2o.audit import AuditEvent

# Every store keeps Beijing time today. Code reads a store's zone through
# ``Store.zone`` only, so a per-store time-zone column can replace this constant.
STORE_TIME_ZONE = "Asia/Shanghai"


class StoreKind(models.TextChoices):
    STORE = "store", _("store")
    WAREHOUSE = "warehouse", _("warehouse")


class Service(models.TextChoices):
    TRYON = "tryon", _("try-on")
    ENGRAVING = "engraving", _("engraving")
    RESIZING = "resizing", _("resizing")
    CLEANING = "cleaning", _("cleaning")
    APPRAISAL = "appraisal", _("appraisal")


class StoreQuerySet(models.QuerySet):
    def shops(self):
        return self.filter(kind=StoreKind.STORE, is_active=True)

    def for_tryon(self):
        return self.shops().filter(services__contains=[Service.TRYON], tryon_seats__gt=0)


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
    services = ArrayField(models.CharField(max_length=12, choices=Service.choices), default=list,
                          blank=True, verbose_name=_("services"))
    tryon_minutes = models.PositiveSmallIntegerField(
        _("try-on length (minutes)"), default=60,
        help_text=_("Each appointment takes one seat for this long; times are offered on this grid."))
    booking_lead_minutes = models.PositiveSmallIntegerField(
        _("booking lead time (minutes)"), default=120,
        help_text=_("The earliest try-on a shopper can book is this far from now."))
    booking_days = models.PositiveSmallIntegerField(
        _("bookable days ahead"), default=30)
    dispatch_days = models.PositiveSmallIntegerField(
        _("transfer time (days)"), default=2,
        help_text=_("Days a piece sent from here takes to reach another store."))

    objects = StoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["kind", "code"]
        permissions = [
            # Head office (analysts, marketers): sees every store's rows and figures, as a
            # superuser does; acting on a store still needs to work there.
            ("view_all_stores", _("Can see every store (head office)")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(tryon_minutes__gte=15) & Q(tryon_minutes__lte=240),
                                   name="store_tryon_minutes_sensible"),
            models.CheckConstraint(condition=Q(booking_days__gte=1) & Q(booking_days__lte=180),
                                   name="store_booking_days_sensible"),
        ]

    @property
    def zone(self) -> ZoneInfo:
        """The store's own time zone: hours, slots and "open now" are read in it."""
        return ZoneInfo(STORE_TIME_ZONE)

    @property
    def city_title(self) -> str:
        lang = get_language() or ""
        return self.city_en if lang.startswith("en") and self.city_en else self.city

    def offers(self, service: str) -> bool:
        return service in (self.services or [])

    @property
    def takes_tryons(self) -> bool:
        return (self.is_active and self.kind == StoreKind.STORE and self.tryon_seats > 0
                and self.offers(Service.TRYON))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def get_absolute_url(self):
        return reverse("stores:detail", kwargs={"code": self.code})


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


class StockLevelQuerySet(models.QuerySet):
    def available(self) -> "StockLevelQuerySet":
        """Rows with at least one piece that is neither sold nor held (on hand > reserved)."""
        return self.filter(on_hand__gt=F("reserved"))

    def with_available(self) -> "StockLevelQuerySet":
        """Each row with ``available_now`` (on hand less reserved), to sort or sum by."""
        return self.annotate(available_now=F("on_hand") - F("reserved"))


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
    # When the pieces on hand arrived (staff only): set when the row's stock goes from
    # none to some, so it dates the oldest piece there; the dashboards age stock by it.
    arrived_on = models.DateField(_("arrived"), default=timezone.localdate,
                                  help_text=_("When the pieces here arrived (staff only)."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = StockLevelQuerySet.as_manager()

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


class SpecialHours(models.Model):
    """A date on which a store keeps other hours than its week's, or is closed (holidays)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="special_hours",
                              verbose_name=_("store"))
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=False)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note (Chinese)"), max_length=100, blank=True,
                            help_text=_("Shown to shoppers, e.g. 国庆节."))
    note_en = models.CharField(_("note (English)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("closure or special hours")
        verbose_name_plural = _("closures and special hours")
        ordering = ["store", "date"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="special_hours_once_per_date"),
            models.CheckConstraint(
                condition=Q(closed=True, opens__isnull=True, closes__isnull=True)
                | Q(closed=False, opens__isnull=False, closes__isnull=False, closes__gt=F("opens")),
                name="special_hours_closed_or_hours",
                violation_error_message=_(
                    "Either tick “closed all day” and leave the hours empty, or give "
                    "both hours with the closing after the opening."),
            ),
        ]

    def __str__(self):
        if self.closed:
            return f"{self.date:%Y-%m-%d} {_('closed')}"
        return f"{self.date:%Y-%m-%d} {self.opens:%H:%M}-{self.closes:%H:%M}"

    @property
    def note_title(self) -> str:
        lang = get_language() or ""
        return self.note_en if lang.startswith("en") and self.note_en else self.note


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    RELEASED = "released", _("released")
    COMMITTED = "committed", _("left the stock")
    EXPIRED = "expired", _("expired")


class ReservationPurpose(models.TextChoices):
    APPOINTMENT = "appointment", _("try-on appointment")
    ORDER = "order", _("order")
    TRANSFER = "transfer", _("transfer")


class Reservation(models.Model):
    """Pieces set aside at a location: counted in ``StockLevel.reserved`` while active.

    ``purpose`` + ``reference`` say for what (an appointment or transfer number, an
    order number); the FKs are filled for this app's own records. Only
    stores.services changes ``status``, together with the stock counter.
    """

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="reservations",
                              verbose_name=_("store"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("variant"))
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(_("status"), max_length=10, choices=ReservationStatus.choices,
                              default=ReservationStatus.ACTIVE)
    purpose = models.CharField(_("for"), max_length=12, choices=ReservationPurpose.choices)
    reference = models.CharField(_("reference"), max_length=40, blank=True, db_index=True)
    appointment = models.ForeignKey("Appointment", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reservations", verbose_name=_("appointment"))
    transfer = models.ForeignKey("Transfer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reservations", verbose_name=_("transfer"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True,
                                      help_text=_("Empty: held until its owner releases it."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(pgettext_lazy("reservation", "closed"), null=True, blank=True)
    close_reason = models.CharField(_("why closed"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status="active", closed_at__isnull=True)
                | (~Q(status="active") & Q(closed_at__isnull=False)),
                name="reservation_closed_when_not_active"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="active"),
                         name="reservation_active_expiry"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.variant_id}@{self.store_id} ({self.purpose} {self.reference})"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    SHIPPED = "shipped", _("in transit")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")


class Transfer(models.Model):
    """Pieces moving from one location to another. ``status`` moves only in stores.services.

    requested: the pieces are reserved at the source. shipped: they left the source
    (on hand there went down) and are counted as in transit. received: they are on
    hand at the destination.
    """

    number = models.CharField(_("number"), max_length=16, unique=True)
    source = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_out",
                               verbose_name=_("from"))
    destination = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_in",
                                    verbose_name=_("to"))
    status = models.CharField(_("status"), max_length=10, choices=TransferStatus.choices,
                              default=TransferStatus.REQUESTED)
    appointment = models.ForeignKey("Appointment", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="transfers", verbose_name=_("for appointment"))
    expected_on = models.DateField(_("expected"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The order number the pieces are for (orders sets it; this app only carries it).
    reference = models.CharField(_("for"), max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")),
                                   name="transfer_between_two_places"),
        ]

    def __str__(self):
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("transfer"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("variant"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.UniqueConstraint(fields=["transfer", "variant"], name="transfer_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.variant_id}"


class TransferEventKind(models.TextChoices):
    CREATED = "created", _("requested")
    SHIPPED = "shipped", _("shipped")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")
    DETACHED = "detached", _("no longer for its order")


class TransferEvent(AuditEvent):
    """The audit trail of a transfer: who created, shipped, received or cancelled it."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events",
                                 verbose_name=_("transfer"))
    kind = models.CharField(_("event"), max_length=40, choices=TransferEventKind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("transfer event")
        verbose_name_plural = _("transfer events")

    def __str__(self):
        return f"{self.transfer_id} {self.kind}"

    def describe(self) -> str:
        from .events import transfer_event_sentence

        return transfer_event_sentence(self)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("booked")
    CHECKED_IN = "checked_in", _("checked in")
    COMPLETED = "completed", _("completed")
    NO_SHOW = "no_show", _("no-show")
    CANCELLED = "cancelled", _("cancelled")


# The statuses in which an appointment holds a seat (and its pieces).
ACTIVE_APPOINTMENT = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class Outcome(models.TextChoices):
    NONE = "", _("not yet")
    BOUGHT = "bought", _("bought")
    NOT_BOUGHT = "not_bought", _("did not buy")


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_APPOINTMENT)

    def on_day(self, store: Store, day: date):
        start = datetime.combine(day, datetime.min.time(), tzinfo=store.zone)
        return self.filter(store=store, starts_at__gte=start, starts_at__lt=start + timedelta(days=1))


class Appointment(models.Model):
    """A try-on: one seat of a store for ``tryon_minutes``, with up to a few pieces set aside.

    ``status`` is written only by stores.services (its TRANSITIONS table). The exclusion
    constraint is the last word on seats: one seat never holds two live appointments
    that overlap, whatever a writer does.
    """

    number = models.CharField(_("number"), max_length=12, unique=True)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="appointments",
                              verbose_name=_("store"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    seat = models.PositiveSmallIntegerField(_("seat"))
    status = models.CharField(_("status"), max_length=12, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="tryon_appointments",
                               verbose_name=_("member"))
    contact_name = models.CharField(_("name"), max_length=100)
    contact_phone = models.CharField(_("mobile number"), max_length=20)
    contact_email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    note = models.CharField(_("shopper's note"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_reason = models.CharField(_("why not bought"), max_length=200, blank=True)
    order_reference = models.CharField(_("order"), max_length=40, blank=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("served by"))
    sequence = models.PositiveSmallIntegerField(_("calendar sequence"), default=0,
                                                help_text=_("Raised at each change of time."))
    created_at = models.DateTimeField(_("booked"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("try-on appointment")
        verbose_name_plural = _("try-on appointments")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="appointment_ends_after_start"),
            models.CheckConstraint(condition=Q(seat__gte=1), name="appointment_seat_positive"),
            models.CheckConstraint(
                condition=Q(status="completed", outcome__in=["bought", "not_bought"])
                | (~Q(status="completed") & Q(outcome="")),
                name="appointment_outcome_when_completed"),
            ExclusionConstraint(
                name="appointment_seat_not_double_booked",
                expressions=[
                    ("store", RangeOperators.EQUAL),
                    ("seat", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["booked", "checked_in"]),
                violation_error_code="slot_taken",
            ),
        ]
        indexes = [models.Index(fields=["store", "starts_at"], name="appointment_store_time")]

    def __str__(self):
        return self.number

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_APPOINTMENT

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.store.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.store.zone)


class TodayAtStore(Appointment):
    """No table of its own: the admin index's entry for the "today at my store" view."""

    class Meta:
        proxy = True
        verbose_name = _("today at my store")
        verbose_name_plural = _("today at my store")


class AppointmentItem(models.Model):
    """A piece the shopper wants to try; ``transfer`` when it comes from elsewhere."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="items",
                                    verbose_name=_("appointment"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("variant"))
    transfer = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("comes by transfer"))

    class Meta:
        verbose_name = _("piece to try")
        verbose_name_plural = _("pieces to try")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "variant"], name="appointment_item_once"),
        ]

    def __str__(self):
        return f"{self.appointment_id}: {self.variant_id}"


class AppointmentEventKind(models.TextChoices):
    BOOKED = "booked", _("booked")
    RESCHEDULED = "rescheduled", _("new time")
    CHECKED_IN = "checked_in", _("checked in")
    COMPLETED = "completed", _("completed")
    NO_SHOW = "no_show", _("did not come")
    CANCELLED = "cancelled", _("cancelled")
    SOLD = "sold", _("sale rung up")
    IMPORTED = "imported", _("imported")
    MEMBER_ERASED = "member_erased", _("shopper's data erased")


class AppointmentEvent(AuditEvent):
    """The audit trail of an appointment: booked, rescheduled, checked in... by whom, when."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events",
                                    verbose_name=_("appointment"))
    kind = models.CharField(_("event"), max_length=40, choices=AppointmentEventKind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("appointment event")
        verbose_name_plural = _("appointment events")

    def __str__(self):
        return f"{self.appointment_id} {self.kind}"

    def describe(self) -> str:
        from .events import appointment_event_sentence

        return appointment_event_sentence(self)


class StockCount(models.Model):
    """An applied stock count (the audit row of a count import)."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="stock_counts",
                              verbose_name=_("store"))
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("applied by"))
    applied_at = models.DateTimeField(_("applied"))
    filename = models.CharField(_("file"), max_length=200, blank=True)
    lines_counted = models.PositiveIntegerField(_("lines"))
    lines_changed = models.PositiveIntegerField(_("lines changed"))

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-applied_at", "-id"]

    def __str__(self):
        return f"{self.store} {self.applied_at:%Y-%m-%d %H:%M}"


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("stock count"))
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("variant"))
    expected = models.IntegerField(_("on hand before"))
    counted = models.PositiveIntegerField(_("counted"))
    difference = models.IntegerField(_("difference"))

    class Meta:
        verbose_name = _("stock count line")
        verbose_name_plural = _("stock count lines")
        constraints = [
            models.CheckConstraint(condition=Q(difference=F("counted") - F("expected")),
                                   name="stock_count_line_difference"),
        ]

    def __str__(self):
        return f"{self.variant_id}: {self.expected} -> {self.counted}"


class StaffRole(models.TextChoices):
    STAFF = "staff", _("store staff")
    MANAGER = "manager", _("store manager")


class StaffAssignment(models.Model):
    """Which stores a staff user works in; the admin scopes their view by it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="store_assignments", verbose_name=_("user"))
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE,
                              related_name="staff_assignments", verbose_name=_("store"))
    role = models.CharField(_("role"), max_length=10, choices=StaffRole.choices,
                            default=StaffRole.STAFF)
    created_at = models.DateTimeField(_("assigned"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="staff_assignment_once"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.store}"
