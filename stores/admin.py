"""Staff screens for stores, stock, transfers and try-ons. Thin: they call stores.services.

Store staff and managers see and act on their own stores only (stores.selectors.
staff_store_ids; superusers see all): every ModelAdmin here scopes its queryset, its
store choices and its actions, and the services check the actor's store again.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.admin_kit import ShownOnCatalogPagesMixin
from catalog.models import Variant
from o2o.admin_kit import (
    AuditEventInline,
    MaskedSearchMixin,
    ReadOnlyInline,
    ScreenEntryAdmin,
    outbox_summary,
)
from o2o.errors import reported
from o2o.outbox import messages_about
from o2o.parsing import whole_number
from o2o.phone import phone_mask, phone_normalize

from . import services
from .counts import stock_count_preview
from .models import (
    Appointment,
    AppointmentEvent,
    AppointmentItem,
    AppointmentStatus,
    OpeningHours,
    Outcome,
    Reservation,
    ReservationStatus,
    Service,
    SpecialHours,
    StaffAssignment,
    StockCount,
    StockCountLine,
    StockLevel,
    Store,
    TodayAtStore,
    Transfer,
    TransferEvent,
    TransferLine,
    TransferStatus,
)
from .selectors import appointments_for_day, pieces_to_prepare, staff_store_ids
from .services.emails import about_appointment

COUNT_SALT = "stores.stock_count"
COUNT_MAX_AGE = 3600  # a preview older than an hour must be uploaded again


def store_ids(request) -> set[int] | None:
    """The stores the user works at (None: all); cached on the request."""
    if not hasattr(request, "_stores_ids"):
        request._stores_ids = staff_store_ids(user=request.user)
    return request._stores_ids


def stores_for(request):
    ids = store_ids(request)
    stores = Store.objects.all()
    return stores if ids is None else stores.filter(pk__in=ids)


class StoreScopedMixin:
    """Rows tied to a store (through any of ``store_paths``) the user does not work at
    are invisible: lists, change pages, actions and store choices."""

    store_paths: tuple[str, ...] = ("store",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = store_ids(request)
        if ids is None:
            return qs
        scope = Q()
        for lookup in self.store_paths:
            scope |= Q(**{f"{lookup}__in": ids})
        return qs.filter(scope)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Store:
            kwargs["queryset"] = stores_for(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False


def _run(request, label, call) -> bool:
    """Call a service; its ApplicationError becomes an error message, not a 500."""
    with reported(request, prefix=label) as outcome:
        call()
    return outcome.ok


# --- Stores -------------------------------------------------------------------------------


class StoreForm(forms.ModelForm):
    services = forms.MultipleChoiceField(label=_("services"), choices=Service.choices,
                                         widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = Store
        fields = ["name", "name_en", "code", "kind", "is_active", "city", "city_en", "address",
                  "latitude", "longitude", "phone", "services", "tryon_seats", "tryon_minutes",
                  "booking_lead_minutes", "booking_days", "dispatch_days"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class SpecialHoursInline(admin.TabularInline):
    model = SpecialHours
    extra = 1
    fields = ["date", "closed", "opens", "closes", "note", "note_en"]

    def get_queryset(self, request):
        # The past stays in the table, but the form lists what is still ahead.
        return super().get_queryset(request).filter(
            date__gte=timezone.localdate() - timedelta(days=7))


class StaffInline(ReadOnlyInline):
    """Who works here (assigned from the user's page, where roles are managed)."""

    model = StaffAssignment
    select = ("user",)
    fields = ["user", "role", "created_at"]
    verbose_name_plural = _("staff")


@admin.register(Store)
class StoreAdmin(ShownOnCatalogPagesMixin, StoreScopedMixin, admin.ModelAdmin):
    form = StoreForm
    store_paths = ("pk",)
    list_display = ["name", "code", "kind", "city", "phone", "services_list", "tryon_seats",
                    "is_active"]
    list_filter = ["kind", "city", "is_active"]
    search_fields = ["name", "name_en", "code", "city"]
    inlines = [OpeningHoursInline, SpecialHoursInline, StaffInline]
    fieldsets = [
        (None, {"fields": ["name", "name_en", "code", "kind", "is_active"]}),
        (_("Where"), {"fields": ["city", "city_en", "address", "latitude", "longitude", "phone"]}),
        (_("Services and try-on"), {"fields": ["services", "tryon_seats", "tryon_minutes",
                                                "booking_lead_minutes", "booking_days",
                                                "dispatch_days"]}),
    ]

    @admin.display(description=_("services"))
    def services_list(self, store):
        labels = dict(Service.choices)
        return ", ".join(str(labels.get(s, s)) for s in store.services or [])


@admin.register(SpecialHours)
class SpecialHoursAdmin(ShownOnCatalogPagesMixin, StoreScopedMixin, admin.ModelAdmin):
    list_display = ["store", "date", "closed", "opens", "closes", "note"]
    list_filter = [("store", RelatedOnlyFieldListFilter), "closed"]
    date_hierarchy = "date"

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


# --- Stock -------------------------------------------------------------------------------


class LowStockFilter(admin.SimpleListFilter):
    title = _("availability")
    parameter_name = "low"

    def lookups(self, request, model_admin):
        return [("none", _("none available")), ("low", _("2 or fewer available")),
                ("reserved", _("with reserved pieces"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(available_now__lte=0)
        if self.value() == "low":
            return queryset.filter(available_now__lte=2)
        if self.value() == "reserved":
            return queryset.filter(reserved__gt=0)
        return queryset


class CountUploadForm(forms.Form):
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none())
    file = forms.FileField(label=_("Count file (CSV)"),
                           help_text=_("Two columns: sku, quantity (counted). A header line "
                                       "is optional; UTF-8 or GB18030."))

    def __init__(self, *args, stores=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        if len(stores) == 1:
            self.fields["store"].initial = stores[0].pk


@admin.register(StockLevel)
class StockLevelAdmin(StoreScopedMixin, admin.ModelAdmin):
    """Read here; stock changes through stores.services (receipts, transfers, counts)."""

    list_display = ["variant", "store", "on_hand", "reserved", "available_col", "in_transit_col",
                    "arrived_on", "updated_at"]
    list_filter = [("store", RelatedOnlyFieldListFilter), LowStockFilter]
    search_fields = ["variant__sku", "variant__barcode", "variant__product__name",
                     "variant__product__name_en"]
    list_select_related = ["variant__product", "store"]
    readonly_fields = ["store", "variant", "on_hand", "reserved", "arrived_on", "updated_at"]
    change_list_template = "stores/admin/stocklevel_change_list.html"

    def get_queryset(self, request):
        in_transit = (TransferLine.objects
                      .filter(transfer__destination=OuterRef("store_id"),
                              transfer__status=TransferStatus.SHIPPED,
                              variant=OuterRef("variant_id"))
                      .values("variant").annotate(n=Sum("quantity")).values("n"))
        return super().get_queryset(request).with_available().annotate(
            in_transit=Coalesce(Subquery(in_transit, output_field=IntegerField()), 0))

    @admin.display(description=_("available"), ordering="available_now")
    def available_col(self, level):
        return level.available_now

    @admin.display(description=_("in transit here"), ordering="in_transit")
    def in_transit_col(self, level):
        return level.in_transit or ""

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [path("count/", self.admin_site.admin_view(self.count_view),
                     name="stores_stocklevel_count"), *super().get_urls()]

    def count_stores(self, request):
        if not request.user.has_perm("stores.add_stockcount"):
            raise PermissionDenied
        return stores_for(request).order_by("kind", "code")

    def count_view(self, request):
        """Step 1: upload; step 2: preview the differences; step 3: confirm (apply)."""
        stores = self.count_stores(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": gettext("Import a stock count")}
        if request.method == "POST" and request.POST.get("step") == "confirm":
            try:
                payload = signing.loads(request.POST.get("payload", ""), salt=COUNT_SALT,
                                        max_age=COUNT_MAX_AGE)
                store = stores.get(pk=payload["store"])
            except (signing.BadSignature, Store.DoesNotExist, KeyError):
                messages.error(request, gettext("This preview has expired or is not valid; "
                                                "upload the file again."))
                return HttpResponseRedirect(request.path)
            with reported(request) as outcome:
                count = services.stock_count_apply(store=store, lines=payload["lines"],
                                                   actor=request.user,
                                                   filename=payload.get("filename", ""))
            if not outcome.ok:
                return HttpResponseRedirect(request.path)
            messages.success(request, gettext(
                "Count applied to %(store)s: %(changed)s of %(lines)s lines changed.") % {
                "store": store.title, "changed": count.lines_changed, "lines": count.lines_counted})
            return redirect("admin:stores_stockcount_change", count.pk)

        form = CountUploadForm(request.POST or None, request.FILES or None, stores=stores)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            preview = stock_count_preview(store=form.cleaned_data["store"],
                                          data=upload.read(), filename=upload.name)
            payload = ""
            if preview.ok:
                payload = signing.dumps({"store": preview.store.pk, "filename": preview.filename,
                                         "lines": preview.lines()}, salt=COUNT_SALT, compress=True)
            return TemplateResponse(request, "stores/admin/stock_count_preview.html", {
                **context, "preview": preview, "payload": payload,
                "title": gettext("Stock count for %(store)s: check the differences")
                % {"store": preview.store.title}})
        return TemplateResponse(request, "stores/admin/stock_count_upload.html",
                                {**context, "form": form})


class StockCountLineInline(ReadOnlyInline):
    model = StockCountLine
    fields = ["variant", "expected", "counted", "difference"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")


@admin.register(StockCount)
class StockCountAdmin(StoreScopedMixin, admin.ModelAdmin):
    list_display = ["store", "applied_at", "counted_by", "lines_counted", "lines_changed",
                    "filename"]
    list_filter = [("store", RelatedOnlyFieldListFilter)]
    readonly_fields = ["store", "applied_at", "counted_by", "filename", "lines_counted",
                       "lines_changed"]
    inlines = [StockCountLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Why a reservation closed, as the services write it (stores, orders, privacy), in words
# of the reader's language; a reason a person typed (a try-on's cancellation) is shown as
# typed.
CLOSE_REASONS = {
    "order cancelled": _("the order was cancelled"),
    "order collected": _("the order was collected"),
    "order shipped": _("the order was shipped"),
    "order refunded": _("the order was refunded"),
    "expired": _("the hold ran out"),
    "committed": _("sold"),
    "shipped": _("the transfer left"),
    "transfer cancelled": _("the transfer was cancelled"),
    "no-show": _("the shopper did not come"),
    "cancelled": _("the try-on was cancelled"),
    "a new time": _("the try-on moved to another time"),
    "the member deleted their account": _("the member deleted their account"),
}
RELEASED_BY = "released by "


def close_reason_words(reason: str) -> str:
    if reason.startswith(RELEASED_BY):
        return gettext("released by %(name)s") % {"name": reason[len(RELEASED_BY):]}
    return str(CLOSE_REASONS.get(reason, reason))


@admin.register(Reservation)
class ReservationAdmin(StoreScopedMixin, admin.ModelAdmin):
    list_display = ["variant", "store", "quantity", "status", "purpose", "reference",
                    "expires_at", "created_at"]
    list_filter = ["status", "purpose", ("store", RelatedOnlyFieldListFilter)]
    search_fields = ["reference", "variant__sku"]
    list_select_related = ["variant__product", "store"]
    readonly_fields = ["store", "variant", "quantity", "status", "purpose", "reference",
                       "appointment", "transfer", "expires_at", "created_at", "closed_at",
                       "why_closed"]
    exclude = ["close_reason"]  # shown in words by why_closed
    actions = ["release"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("why closed"))
    def why_closed(self, reservation):
        return close_reason_words(reservation.close_reason)

    @admin.action(description=_("Release the selected reservations"),
                  permissions=["change"])
    def release(self, request, queryset):
        done = 0
        for reservation in queryset.filter(status=ReservationStatus.ACTIVE).order_by("pk"):
            services.reservation_release(reservation=reservation,
                                         reason=f"{RELEASED_BY}{request.user}")
            done += 1
        messages.success(request, gettext("%(n)s reservations released.") % {"n": done})


# --- Transfers ------------------------------------------------------------------------------


class TransferLineInline(ReadOnlyInline):
    model = TransferLine
    select = ("variant__product",)
    fields = ["variant", "quantity"]


class TransferEventInline(AuditEventInline):
    model = TransferEvent


class TransferCreateForm(forms.Form):
    source = forms.ModelChoiceField(label=_("From"), queryset=Store.objects.none())
    destination = forms.ModelChoiceField(label=_("To"), queryset=Store.objects.none())
    lines = forms.CharField(
        label=_("Pieces"), widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
        help_text=_("One line per piece: SKU and quantity, e.g. “R-0001-12 2”."))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, own=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.own = own
        self.fields["source"].queryset = Store.objects.filter(is_active=True)
        self.fields["destination"].queryset = Store.objects.filter(is_active=True)

    def clean_lines(self):
        parsed, errors = {}, []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = raw.replace(",", " ").replace("\t", " ").split()
            if not parts:
                continue
            quantity = parts[1] if len(parts) > 1 else "1"
            if len(parts) > 2 or not (whole_number(quantity, max_digits=6) or 0) >= 1:
                errors.append(gettext("Line %(n)s: write a SKU and a quantity of 1 or more.")
                              % {"n": number})
                continue
            parsed[parts[0]] = parsed.get(parts[0], 0) + int(quantity)
        variants = {v.sku: v for v in Variant.objects.filter(sku__in=parsed)}
        errors += [gettext("There is no SKU %(sku)s.") % {"sku": sku}
                   for sku in parsed if sku not in variants]
        if errors:
            raise forms.ValidationError(errors)
        if not parsed:
            raise forms.ValidationError(gettext("Give at least one piece."))
        return [(variants[sku], quantity) for sku, quantity in parsed.items()]

    def clean(self):
        data = super().clean()
        source, destination = data.get("source"), data.get("destination")
        if source and destination:
            if source == destination:
                raise forms.ValidationError(gettext("Choose two different places."))
            if self.own is not None and not {source.pk, destination.pk} & self.own:
                raise forms.ValidationError(gettext("One of the two places must be a store "
                                                    "you work at."))
        return data


@admin.register(Transfer)
class TransferAdmin(StoreScopedMixin, admin.ModelAdmin):
    store_paths = ("source", "destination")
    list_display = ["number", "source", "destination", "status", "pieces", "expected_on",
                    "appointment", "created_at", "shipped_at", "received_at"]
    list_filter = ["status", ("source", RelatedOnlyFieldListFilter),
                   ("destination", RelatedOnlyFieldListFilter)]
    search_fields = ["number", "lines__variant__sku", "appointment__number"]
    list_select_related = ["source", "destination", "appointment"]
    readonly_fields = ["number", "source", "destination", "status", "appointment", "expected_on",
                       "note", "created_at", "shipped_at", "received_at", "cancelled_at"]
    inlines = [TransferLineInline, TransferEventInline]
    actions = ["ship", "receive"]
    change_form_template = "stores/admin/transfer_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__variant")

    @admin.display(description=_("pieces"))
    def pieces(self, transfer):
        return ", ".join(f"{line.variant.sku} ×{line.quantity}" for line in transfer.lines.all())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/step/<str:step>/", wrap(self.step_view),
                 name="stores_transfer_step"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """A transfer is made by transfer_create (which reserves at the source), not by
        saving a form: the admin's add page is this small form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        own = store_ids(request)
        form = TransferCreateForm(request.POST or None, own=own)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            with reported(form=form) as outcome:
                transfer = services.transfer_create(
                    source=data["source"], destination=data["destination"],
                    lines=data["lines"], actor=request.user, note=data["note"])
            if outcome.ok:
                messages.success(request, gettext("Transfer %(number)s requested; the pieces are "
                                                  "reserved at %(store)s.") % {
                    "number": transfer.number, "store": transfer.source.title})
                return redirect("admin:stores_transfer_change", transfer.pk)
        return TemplateResponse(request, "stores/admin/transfer_add.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": gettext("Request a transfer"), "add": True})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        transfer = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False}
        if transfer is not None and request.user.has_perm("stores.change_transfer"):
            own = store_ids(request)
            mine = own is None or {transfer.source_id, transfer.destination_id} & own
            extra["transfer_steps"] = [
                (step, label) for step, label, status, place in [
                    ("ship", gettext("Mark shipped"), TransferStatus.REQUESTED, transfer.source_id),
                    ("receive", gettext("Mark received"), TransferStatus.SHIPPED,
                     transfer.destination_id),
                    ("cancel", gettext("Cancel the transfer"), TransferStatus.REQUESTED, None),
                ]
                if transfer.status == status and mine
                and (place is None or own is None or place in own)]
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def step_view(self, request, pk, step):
        if request.method != "POST" or not request.user.has_perm("stores.change_transfer"):
            raise PermissionDenied
        transfer = get_object_or_404(self.get_queryset(request), pk=pk)
        call = {"ship": services.transfer_ship, "receive": services.transfer_receive,
                "cancel": services.transfer_cancel}.get(step)
        if call is None:
            raise PermissionDenied
        if _run(request, transfer.number, lambda: call(transfer=transfer, actor=request.user)):
            transfer.refresh_from_db()
            messages.success(request, gettext("Transfer %(number)s is now %(status)s.") % {
                "number": transfer.number, "status": transfer.get_status_display()})
        return redirect("admin:stores_transfer_change", transfer.pk)

    def _bulk(self, request, queryset, call):
        done = 0
        for transfer in queryset.order_by("pk"):
            if _run(request, transfer.number, lambda t=transfer: call(transfer=t, actor=request.user)):
                done += 1
        if done:
            messages.success(request, gettext("%(n)s transfers updated.") % {"n": done})

    @admin.action(description=_("Mark the selected transfers shipped"), permissions=["change"])
    def ship(self, request, queryset):
        self._bulk(request, queryset, services.transfer_ship)

    @admin.action(description=_("Mark the selected transfers received"), permissions=["change"])
    def receive(self, request, queryset):
        self._bulk(request, queryset, services.transfer_receive)


# --- Appointments ----------------------------------------------------------------------------


class AppointmentItemInline(ReadOnlyInline):
    model = AppointmentItem
    select = ("variant__product", "transfer")
    fields = ["variant", "transfer"]


class AppointmentEventInline(AuditEventInline):
    model = AppointmentEvent




ACTIONS = {
    "check_in": (_("Check in"), lambda a, user, post: services.appointment_check_in(
        appointment=a, actor=user)),
    "no_show": (_("No-show"), lambda a, user, post: services.appointment_no_show(
        appointment=a, actor=user)),
    "cancel": (_("Cancel"), lambda a, user, post: services.appointment_cancel(
        appointment=a, actor=user, reason=post.get("reason", ""))),
    "complete": (_("Complete"), lambda a, user, post: services.appointment_complete(
        appointment=a, actor=user, outcome=post.get("outcome", ""),
        order_reference=post.get("order_reference", ""), reason=post.get("reason", ""),
        bought_variant_ids=[n for v in post.getlist("bought")
                            if (n := whole_number(v)) is not None] or None)),
}


def available_actions(appointment: Appointment) -> list[str]:
    table = services.APPOINTMENT_TRANSITIONS[AppointmentStatus(appointment.status)]
    names = {AppointmentStatus.CHECKED_IN: "check_in", AppointmentStatus.NO_SHOW: "no_show",
             AppointmentStatus.CANCELLED: "cancel", AppointmentStatus.COMPLETED: "complete"}
    order = ["check_in", "complete", "no_show", "cancel"]
    allowed = {names[s] for s in table}
    if appointment.starts_at > timezone.now():
        allowed.discard("no_show")
    return [name for name in order if name in allowed]


@admin.register(Appointment)
class AppointmentAdmin(MaskedSearchMixin, StoreScopedMixin, admin.ModelAdmin):
    # Masked numbers are found whole, never spelled out by their first digits.
    masked_search_fields = ("contact_phone",)
    masked_search_permission = "members.view_contact"

    list_display = ["number", "local_time", "store", "status", "contact_name", "masked_phone",
                    "pieces", "outcome"]
    list_filter = ["status", ("store", RelatedOnlyFieldListFilter), "outcome"]
    search_fields = ["number", "contact_name", "contact_phone", "contact_email"]
    date_hierarchy = "starts_at"
    list_select_related = ["store"]
    ordering = ["-starts_at"]
    readonly_fields = ["number", "store", "starts_at", "ends_at", "seat", "status", "member",
                       "contact_name", "contact_phone", "contact_email", "language", "note",
                       "outcome", "outcome_reason", "order_reference", "staff", "sequence",
                       "created_at", "checked_in_at", "completed_at", "cancelled_at",
                       "cancel_reason", "emails"]
    inlines = [AppointmentItemInline, AppointmentEventInline]
    actions = ["check_in_selected", "cancel_selected"]
    change_list_template = "stores/admin/appointment_change_list.html"
    change_form_template = "stores/admin/appointment_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("items__variant")

    @admin.display(description=_("time"), ordering="starts_at")
    def local_time(self, appointment):
        local = appointment.local_start
        return f"{local:%Y-%m-%d %H:%M}–{appointment.local_end:%H:%M}"

    def masked_search_term(self, term: str) -> str | None:
        try:
            return phone_normalize(term.strip()) if any(c.isdigit() for c in term) else None
        except ValidationError:
            return None

    @admin.display(description=_("mobile number"), ordering="contact_phone")
    def masked_phone(self, appointment):
        return phone_mask(appointment.contact_phone)

    @admin.display(description=_("emails"))
    def emails(self, appointment):
        return outbox_summary(messages_about(about_appointment(appointment.pk)))

    @admin.display(description=_("pieces"))
    def pieces(self, appointment):
        return ", ".join(item.variant.sku for item in appointment.items.all())

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("today/", wrap(self.today_view), name="stores_appointment_today"),
            path("<int:pk>/act/<str:action>/", wrap(self.act_view),
                 name="stores_appointment_act"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        appointment = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False}
        if appointment is not None and self.has_change_permission(request, appointment):
            extra["appointment_actions"] = available_actions(appointment)
            extra["appointment"] = appointment
            if "complete" in extra["appointment_actions"]:
                extra["appointment_sales"] = services.tryon_sales(appointment)
            extra["outcomes"] = [(Outcome.BOUGHT, Outcome.BOUGHT.label),
                                 (Outcome.NOT_BOUGHT, Outcome.NOT_BOUGHT.label)]
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def act_view(self, request, pk, action):
        """POST: one transition of one appointment, then back where the button was."""
        if request.method != "POST" or action not in ACTIONS:
            raise PermissionDenied
        appointment = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, appointment):
            raise PermissionDenied
        label, call = ACTIONS[action]
        if _run(request, f"{appointment.number} · {label}",
                lambda: call(appointment, request.user, request.POST)):
            appointment.refresh_from_db()
            messages.success(request, gettext("%(number)s (%(name)s): %(status)s.") % {
                "number": appointment.number, "name": appointment.contact_name,
                "status": appointment.get_status_display()})
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:stores_appointment_change", args=[appointment.pk])
        return HttpResponseRedirect(back)

    def today_view(self, request):
        """The day's appointments of one of my stores, in time order, with the pieces to
        lay out and a button for each step."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        stores = list(stores_for(request).filter(kind="store").order_by("city", "code"))
        store = next((s for s in stores if s.code == request.GET.get("store")),
                      stores[0] if stores else None)
        today = timezone.now().astimezone(store.zone).date() if store else timezone.localdate()
        try:
            day = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            day = today
        if not date.min < day < date.max:  # the day before and after must exist
            day = today
        appointments = appointments_for_day(store=store, day=day) if store else []
        can_act = self.has_change_permission(request)
        rows = [{"appointment": a, "actions": (actions := available_actions(a) if can_act else []),
                 "sales": services.tryon_sales(a) if "complete" in actions else [],
                 "held": {r.variant_id for r in a.live_reservations if r.store_id == a.store_id}}
                for a in appointments]
        return TemplateResponse(request, "stores/admin/today.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": gettext("Today at my store"), "stores": stores, "store": store,
            "day": day, "today": today, "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1), "rows": rows,
            "prepare": pieces_to_prepare(appointments),
            "live": sum(1 for a in appointments if a.is_active),
            "outcomes": [(Outcome.BOUGHT, Outcome.BOUGHT.label),
                         (Outcome.NOT_BOUGHT, Outcome.NOT_BOUGHT.label)],
            "now": timezone.now(),
        })

    def _bulk(self, request, queryset, action):
        label, call = ACTIONS[action]
        done = 0
        for appointment in queryset.order_by("starts_at"):
            if _run(request, f"{appointment.number} · {label}",
                    lambda a=appointment: call(a, request.user, request.POST)):
                done += 1
        if done:
            messages.success(request, gettext("%(n)s appointments updated.") % {"n": done})

    @admin.action(description=_("Check in the selected appointments"), permissions=["change"])
    def check_in_selected(self, request, queryset):
        self._bulk(request, queryset, "check_in")

    @admin.action(description=_("Cancel the selected appointments"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._bulk(request, queryset, "cancel")


@admin.register(TodayAtStore)
class TodayAtStoreAdmin(ScreenEntryAdmin):
    """The admin index's entry for the day view (a proxy of Appointment)."""

    target = "admin:stores_appointment_today"
    needs = ("stores.view_appointment",)

