"""Staff screens for orders: the order list and page, the pickup desk, the counter sale.

Thin: every change goes through orders.services (the status is read-only here; the
allowed moves are buttons and actions calling the transition services). Store staff
and managers see their own stores' orders only (stores.admin.store_ids; superusers see
all), and the services check the actor's store again (NotYourStore is a 403).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import User
from members.selectors import users_with_phone
from members.services.coupons import coupon_guess_ensure, coupons_usable
from o2o.admin_kit import (
    AuditEventInline,
    MaskedSearchMixin,
    ReadOnlyInline,
    ScreenEntryAdmin,
    money_column,
    outbox_summary,
)
from o2o.errors import ApplicationError, reported
from o2o.money import money
from o2o.outbox import messages_about
from o2o.phone import phone_display, phone_mask, phone_normalize
from stores.admin import store_ids, stores_for
from stores.models import Store, StoreKind

from .emails import about_order
from .models import (
    CounterSale,
    Order,
    OrderChannel,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    PickupDesk,
)
from .services import (
    order_cancel,
    order_complete,
    order_deliver,
    order_ship,
    order_staff_moves,
)
from .services.counter import counter_lines_resolve, order_sell_at_counter
from .services.loyalty import discounts_quote
from .services.pickup import (
    COUNTER_PROVIDERS,
    pickup_get,
    pickup_hand_over,
    pickup_lookup_ensure,
    pickup_pay_and_collect,
    pickup_phone_hint,
    pickup_phone_tail,
    pickup_search,
)

S = OrderStatus
# Order's money fields and the admin attribute that shows each as money.
MONEY_SHOWN = {name: f"{name}_money" for name in ("subtotal", "discount", "total",
                                                   "coupon_discount", "points_discount")}


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    select = ("variant__product",)
    fields = ["variant", "product_name", "sku", "quantity", "unit_price_money",
              "line_total_money"]
    unit_price_money = money_column(OrderLine, "unit_price")
    line_total_money = money_column(OrderLine, "line_total")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["provider", "reference", "amount_money", "refunded_money", "status", "created_at"]
    amount_money = money_column(Payment, "amount")
    refunded_money = money_column(Payment, "refunded_amount")


class OrderEventInline(AuditEventInline):
    """The audit trail: who did what, when, from where."""

    model = OrderEvent


# The moves staff make by hand on the order page (orders.services.order_staff_moves says
# which apply now); the pickup desk and the counter have their own screens, payments come
# from the provider.
ORDER_ACTS: dict[str, tuple] = {
    "ship": (pgettext_lazy("order", "Mark shipped"), S.SHIPPED),
    "deliver": (_("Mark delivered"), S.DELIVERED),
    "complete": (_("Mark completed"), S.COMPLETED),
    "cancel": (_("Cancel (unpaid)"), S.CANCELLED),
}


def order_acts(order: Order) -> list[tuple[str, str]]:
    allowed = order_staff_moves(order=order)
    return [(name, label) for name, (label, to) in ORDER_ACTS.items() if to in allowed]


def order_act(*, order: Order, act: str, actor) -> Order:
    if act == "cancel":
        return order_cancel(order=order, actor=actor, via="admin", reason="cancelled by staff")
    service = {"ship": order_ship, "deliver": order_deliver, "complete": order_complete}[act]
    return service(order=order, actor=actor, via="admin")


def _error_page(request, context, template, error: ApplicationError):
    return TemplateResponse(request, template, {**context, "error": error.message},
                            status=error.status)


# --- Forms -------------------------------------------------------------------------------


def _provider_choices():
    labels = dict(PaymentProvider.choices)
    return [(p.value, labels[p.value]) for p in COUNTER_PROVIDERS]


class HandOverForm(forms.Form):
    phone_tail = forms.CharField(
        label=_("Last 4 digits of the shopper's mobile"), max_length=4, min_length=4,
        required=False, widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                      "autocomplete": "off", "size": 6}))


class CounterPaymentForm(HandOverForm):
    provider = forms.ChoiceField(label=_("Payment"), choices=_provider_choices,
                                 widget=forms.RadioSelect, initial=PaymentProvider.CASH)
    reference = forms.CharField(label=_("Terminal reference"), max_length=100, required=False,
                                help_text=_("The slip number; required for card, Alipay and "
                                            "WeChat Pay."))


class CounterSaleForm(forms.Form):
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none(),
                                   empty_label=None)
    phone = forms.CharField(label=_("Member's mobile"), max_length=32, required=False,
                            help_text=_("Finds the member, or registers a new one."),
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel",
                                                          "autocomplete": "off"}))
    name = forms.CharField(label=_("Name (new member)"), max_length=100, required=False)
    lines = forms.CharField(
        label=_("Pieces"), max_length=4000,
        help_text=_("Scan or type one SKU or barcode per line; add “x2” for two."),
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off",
                                     "spellcheck": "false", "autofocus": True}))
    coupon_code = forms.CharField(
        label=_("Coupon code"), max_length=64, required=False,
        help_text=_("Scan or type a printed code, or one from the member's wallet."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    points = forms.IntegerField(label=_("Points to use"), min_value=0, max_value=10**9,
                                required=False)
    provider = forms.ChoiceField(label=_("Payment"), choices=_provider_choices,
                                 widget=forms.RadioSelect, required=False)
    reference = forms.CharField(label=_("Terminal reference"), max_length=100, required=False)
    total_seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, stores=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        if len(stores) == 1:
            self.fields["store"].initial = stores[0].pk


# --- The order admin ---------------------------------------------------------------------


def _e164_or_none(term: str) -> str | None:
    try:
        return phone_normalize(term.strip()) if any(ch.isdigit() for ch in term) else None
    except ValidationError:
        return None


@admin.register(Order)
class OrderAdmin(MaskedSearchMixin, admin.ModelAdmin):
    """Orders are read here; every change of state goes through orders.services."""

    # Store staff see masked numbers: they find an order by the whole number, not by
    # its first digits (o2o.admin_kit.MaskedSearchMixin).
    masked_search_fields = ("contact_phone", "member__phone")
    masked_search_permission = "members.view_contact"

    list_display = ["number", "channel", "fulfilment", "status", "store", "contact",
                    "total_money", "placed_at"]
    list_filter = ["status", "channel", "fulfilment", ("store", admin.RelatedOnlyFieldListFilter)]
    # Not the pickup code: the admin search would be a lookup without the desk's rate limit.
    search_fields = ["number", "contact_phone", "contact_email", "member__phone",
                     "member__email"]
    date_hierarchy = "placed_at"
    list_select_related = ["store", "member"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    # Money as money (¥12,800), the address as an address: never raw decimals or JSON.
    readonly_fields = [MONEY_SHOWN.get(f.name, f.name) if f.name != "address" else "address_text"
                       for f in Order._meta.fields] + ["emails"]
    subtotal_money = money_column(Order, "subtotal")
    discount_money = money_column(Order, "discount")
    total_money = money_column(Order, "total")
    coupon_discount_money = money_column(Order, "coupon_discount")
    points_discount_money = money_column(Order, "points_discount")
    actions = ["cancel_unpaid", "mark_shipped", "mark_delivered"]

    def masked_search_term(self, term: str) -> str | None:
        return _e164_or_none(term)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = store_ids(request)
        return qs if ids is None else qs.filter(store__in=ids)

    # Store staff open a pickup at the desk (rate limited), not by reading its code here.
    # The number itself is never a form field: contact_phone_full / _hint show it.
    # The money fields and the address are shown by their *_money / address_text columns.
    def get_exclude(self, request, obj=None):
        shown_otherwise = [*MONEY_SHOWN, "address"]
        return (["contact_phone", *shown_otherwise] if request.user.is_superuser
                else ["pickup_code", "contact_phone", *shown_otherwise])

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.get_exclude(request, obj) or [])
        # The number as people read it, or without its last 4 digits (the desk's question)
        # for a role that may not see members' contact details.
        sees = request.user.has_perm("members.view_contact")  # members.roles' masking rule
        phone = "contact_phone_full" if sees else "contact_phone_hint"
        return [phone if f == "contact_phone" else f
                for f in self.readonly_fields if f == "contact_phone" or f not in hidden]

    @admin.display(description=_("mobile number"))
    def contact_phone_full(self, order):
        return phone_display(order.contact_phone)

    @admin.display(description=_("mobile number"))
    def contact_phone_hint(self, order):
        return pickup_phone_hint(order)

    @admin.display(description=_("delivery address"))
    def address_text(self, order):
        """Recipient, phone, then the place, as the order page writes it."""
        a = order.address or {}
        who = " · ".join(x for x in (a.get("recipient", ""), phone_display(a.get("phone", "")))
                         if x)
        where = " ".join(a.get(k, "") for k in ("province", "city", "district", "street",
                                                 "postcode") if a.get(k))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in (who, where)
                                                          if line)) if a else ""

    @admin.display(description=_("emails"))
    def emails(self, order):
        return outbox_summary(messages_about(about_order(order.pk)))

    @admin.display(description=_("contact"), ordering="contact_name")
    def contact(self, order):
        # Without the last 4 digits: they are the pickup desk's question.
        return f"{order.contact_name} {pickup_phone_hint(order)}".strip()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("desk/", wrap(self.desk_view), name="orders_order_desk"),
            path("desk/<int:pk>/", wrap(self.desk_order_view), name="orders_order_desk_order"),
            path("desk/<int:pk>/collect/", wrap(self.desk_collect_view),
                 name="orders_order_desk_collect"),
            path("desk/<int:pk>/pay/", wrap(self.desk_pay_view), name="orders_order_desk_pay"),
            path("counter/", wrap(self.counter_view), name="orders_order_counter"),
            path("<int:pk>/receipt/", wrap(self.receipt_view), name="orders_order_receipt"),
            path("<int:pk>/act/<str:act>/", wrap(self.act_view), name="orders_order_act"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False}
        if order is not None and self.has_change_permission(request, order):
            extra["order_acts"] = order_acts(order)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def act_view(self, request, pk, act):
        """POST: one move of one order (through orders.services), back to its page."""
        if request.method != "POST" or act not in ORDER_ACTS:
            raise PermissionDenied
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        with reported(request, prefix=order.number) as outcome:
            order = order_act(order=order, act=act, actor=request.user)
        if outcome.ok:
            messages.success(request, gettext("Order %(number)s is now %(status)s.") % {
                "number": order.number, "status": order.get_status_display()})
        return redirect("admin:orders_order_change", order.pk)

    def _bulk(self, request, queryset, act):
        done = 0
        for order in queryset.order_by("pk"):
            with reported(request, prefix=order.number) as outcome:
                order_act(order=order, act=act, actor=request.user)
            if outcome.ok:
                done += 1
        if done:
            messages.success(request, gettext("%(n)s orders updated.") % {"n": done})

    @admin.action(description=_("Cancel the selected unpaid orders"), permissions=["change"])
    def cancel_unpaid(self, request, queryset):
        self._bulk(request, queryset, "cancel")

    @admin.action(description=_("Mark the selected delivery orders shipped"),
                  permissions=["change"])
    def mark_shipped(self, request, queryset):
        self._bulk(request, queryset, "ship")

    @admin.action(description=_("Mark the selected delivery orders delivered"),
                  permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._bulk(request, queryset, "deliver")

    # --- The pickup desk -------------------------------------------------------------------

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta,
                "title": title, **extra}

    def _desk_stores(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return list(stores_for(request).filter(kind=StoreKind.STORE).order_by("city", "code"))

    @staticmethod
    def _chosen_store(stores, code):
        """The store asked for (any store: the service refuses one that is not the
        user's with a 403), or the user's first store."""
        if code:
            store = next((s for s in stores if s.code == code), None)
            if store is None:
                store = Store.objects.filter(code=code, kind=StoreKind.STORE).first()
                if store is None:
                    raise Http404
            return store
        return stores[0] if stores else None

    def _card(self, order: Order) -> dict:
        payments = [p for p in order.payments.all() if p.status == PaymentStatus.SUCCEEDED]
        return {"order": order, "payments": payments,
                "waiting": order.status in (S.PAID, S.READY_FOR_PICKUP),
                "pay_first": order.status == S.PENDING_PAYMENT,
                "tail_needed": bool(pickup_phone_tail(order)),
                # The clerk asks for the last 4 digits: the card must not show them.
                "phone": pickup_phone_hint(order)}

    def desk_view(self, request):
        """Find a pickup at one of my stores by its code (typed or scanned) or a phone."""
        stores = self._desk_stores(request)
        store = self._chosen_store(stores, request.GET.get("store", ""))
        query = request.GET.get("q", "").strip()[:40]
        context = self._context(request, gettext("Pickup desk"), stores=stores, store=store,
                                query=query, searched=False, cards=[],
                                hand_over_form=HandOverForm(), pay_form=CounterPaymentForm())
        template = "admin/orders/desk.html"
        if store is None or not query:
            return TemplateResponse(request, template, context)
        with reported() as outcome:
            pickup_lookup_ensure(request=request, store=store, actor=request.user)
            found = pickup_search(store=store, actor=request.user, query=query)
        if outcome.error is not None:
            return _error_page(request, context, template, outcome.error)
        context.update(searched=True, cards=[self._card(o) for o in found])
        return TemplateResponse(request, template, context)

    def desk_order_view(self, request, pk):
        stores = self._desk_stores(request)
        store = self._chosen_store(stores, request.GET.get("store", ""))
        context = self._context(request, gettext("Pickup desk"), stores=stores, store=store,
                                query="", searched=True, cards=[],
                                hand_over_form=HandOverForm(), pay_form=CounterPaymentForm())
        if store is None:
            raise Http404
        with reported() as outcome:
            order = pickup_get(store=store, actor=request.user, pk=pk)
        if outcome.error is not None:
            return _error_page(request, context, "admin/orders/desk.html", outcome.error)
        context["cards"] = [self._card(order)]
        return TemplateResponse(request, "admin/orders/desk.html", context)

    def _desk_post(self, request, pk, form_class, call):
        if request.method != "POST":
            raise PermissionDenied
        stores = self._desk_stores(request)
        store = self._chosen_store(stores, request.POST.get("store", ""))
        if store is None:
            raise Http404
        form = form_class(request.POST)
        context = self._context(request, gettext("Pickup desk"), stores=stores, store=store,
                                query="", searched=True, cards=[],
                                hand_over_form=HandOverForm(), pay_form=CounterPaymentForm())
        template = "admin/orders/desk.html"
        with reported() as outcome:
            order = pickup_get(store=store, actor=request.user, pk=pk)
        if outcome.error is not None:
            return _error_page(request, context, template, outcome.error)
        context["cards"] = [self._card(order)]
        if not form.is_valid():
            context["hand_over_form" if form_class is HandOverForm else "pay_form"] = form
            return TemplateResponse(request, template, context, status=400)
        with reported() as outcome:
            order = call(order=order, store=store, data=form.cleaned_data)
        if outcome.error is not None:
            context["hand_over_form" if form_class is HandOverForm else "pay_form"] = form
            return _error_page(request, context, template, outcome.error)
        if order.contact_name:
            messages.success(request, gettext("Order %(number)s handed over to %(name)s.") % {
                "number": order.number, "name": order.contact_name})
        else:
            messages.success(request, gettext("Order %(number)s handed over.") % {
                "number": order.number})
        return HttpResponseRedirect(
            reverse("admin:orders_order_desk_order", args=[order.pk]) + f"?store={store.code}")

    def desk_collect_view(self, request, pk):
        """POST: confirm the hand-over of a paid pickup."""
        return self._desk_post(request, pk, HandOverForm, lambda order, store, data: (
            pickup_hand_over(order=order, store=store, actor=request.user,
                             phone_tail=data["phone_tail"])))

    def desk_pay_view(self, request, pk):
        """POST: take the counter payment of a "pay at the counter" pickup, and hand over."""
        return self._desk_post(request, pk, CounterPaymentForm, lambda order, store, data: (
            pickup_pay_and_collect(order=order, store=store, actor=request.user,
                                   provider=data["provider"], reference=data["reference"],
                                   phone_tail=data["phone_tail"])))

    # --- The counter sale ------------------------------------------------------------------

    def counter_view(self, request):
        """Ring up a sale: check the pieces and prices first, then take the payment."""
        if not self.has_change_permission(request) or not request.user.has_perm(
                "orders.add_order"):
            raise PermissionDenied
        stores = (stores_for(request).filter(kind=StoreKind.STORE, is_active=True)
                  .order_by("city", "code"))
        initial = {}
        member_id = request.GET.get("member", "")
        if request.method != "POST" and member_id.isdecimal() and len(member_id) < 12:
            # From "Register a member": the sale starts with that member.
            known = User.objects.filter(pk=int(member_id)).values_list("phone", flat=True).first()
            initial = {"phone": known or ""}
        form = CounterSaleForm(request.POST or None, stores=stores, initial=initial)
        context = self._context(request, gettext("Ring up a sale"), form=form, stores=stores,
                                preview=None, member=None)
        template = "admin/orders/counter.html"
        if request.method != "POST":
            return TemplateResponse(request, template, context)
        if not form.is_valid():
            return TemplateResponse(request, template, context, status=400)
        data = form.cleaned_data
        store = data["store"]
        with reported() as outcome:
            preview = counter_lines_resolve(store=store, staff=request.user, text=data["lines"])
        if outcome.error is not None:
            return _error_page(request, context, template, outcome.error)
        context.update(preview=preview,
                       short=[line for line in preview if line.available < line.quantity])
        member = None
        if data["phone"]:
            try:
                member = users_with_phone(phone=phone_normalize(data["phone"].strip())).first()
            except ValidationError:
                form.add_error("phone", gettext("Enter a valid mobile number, for example "
                                                "138 0013 8000."))
                return TemplateResponse(request, template, context, status=400)
            context.update(member=member, new_member=member is None)
        coupon_code, points = data["coupon_code"] or "", data["points"] or 0
        if coupon_code:
            # A typed code counts towards the guessing limit, as online (429).
            with reported() as outcome:
                coupon_guess_ensure(request=request)
            if outcome.error is not None:
                return _error_page(request, context, template, outcome.error)
        if points and member is None:
            form.add_error("points", gettext("Points belong to a member: enter the member's "
                                             "mobile number first."))
            return TemplateResponse(request, template, context, status=400)
        discounts = discounts_quote(
            lines=[(line.variant, line.line_total) for line in preview], member=member,
            channel=OrderChannel.STORE, coupon_code=coupon_code, points=points)
        refused = discounts.coupon_error or discounts.points_error  # only set for what was typed
        context.update(discounts=discounts, total=discounts.total, refused=refused,
                       wallet=coupons_usable(member=member, channel="store") if member else [])
        if request.POST.get("step") != "pay":
            return TemplateResponse(request, template, context)
        if refused:
            return TemplateResponse(request, template, context, status=400)
        try:
            seen = Decimal(data["total_seen"] or "-1")
        except InvalidOperation:
            seen = Decimal("-1")
        if not data["provider"]:
            form.add_error("provider", gettext("Choose how the shopper pays."))
            return TemplateResponse(request, template, context, status=400)
        with reported() as outcome:
            order = order_sell_at_counter(
                store=store, staff=request.user,
                lines=[(line.variant, line.quantity) for line in preview], member=member,
                register_phone=data["phone"],
                contact_name=data["name"] if member is None else "",
                payment_provider=data["provider"], payment_reference=data["reference"],
                coupon_code=coupon_code, points=points, total_seen=seen)
        if outcome.error is not None:
            return _error_page(request, context, template, outcome.error)
        messages.success(request, gettext("Sale %(number)s recorded: %(total)s.") % {
            "number": order.number, "total": money(order.total)})
        return redirect("admin:orders_order_receipt", order.pk)

    def receipt_view(self, request, pk):
        """A print-friendly receipt of a sale (any order of my stores)."""
        order = get_object_or_404(
            self.get_queryset(request).select_related("store", "staff", "member")
            .prefetch_related("lines", "payments"), pk=pk)
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        back = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:orders_order_counter")
        payments = [p for p in order.payments.all() if p.status != PaymentStatus.FAILED]
        return TemplateResponse(request, "admin/orders/receipt.html", self._context(
            request, gettext("Receipt %(number)s") % {"number": order.number}, order=order,
            payments=payments, phone=phone_mask(order.contact_phone or (
                order.member.phone if order.member else "")), back=back))



@admin.register(PickupDesk)
class PickupDeskAdmin(ScreenEntryAdmin):
    target = "admin:orders_order_desk"
    needs = ("orders.change_order",)


@admin.register(CounterSale)
class CounterSaleAdmin(ScreenEntryAdmin):
    target = "admin:orders_order_counter"
    needs = ("orders.change_order", "orders.add_order")

from . import admin_tickets  # noqa: E402,F401 - after-sales tickets register themselves
