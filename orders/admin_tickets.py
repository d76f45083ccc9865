"""Admin for after-sales service tickets (imported by orders/admin.py).

Store staff see and act on their own stores' tickets only (stores.admin.store_ids;
superusers see all); another store's ticket is a 404 here and NotYourStore in the
service. The status is read-only: the allowed moves (orders.services.tickets.
TICKET_TRANSITIONS) are buttons that call ticket_move; "add" opens a ticket in store
through ticket_open. The floor roles (orders.change_order) may use it, so no new
permissions are needed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from o2o.admin_kit import AuditEventInline
from o2o.errors import reported
from o2o.phone import phone_mask
from stores.admin import StoreScopedMixin, stores_for
from stores.models import Store, StoreKind

from .models import Order, ServiceTicket, ServiceTicketEvent, TicketKind, TicketStatus
from .services.tickets import DESCRIPTION_MAX, NOTE_MAX, ticket_move, ticket_moves, ticket_open


class ServiceTicketEventInline(AuditEventInline):
    model = ServiceTicketEvent

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


class TicketOpenForm(forms.Form):
    """Open a ticket at the counter: for an order's piece, or for anyone's piece."""

    store = forms.ModelChoiceField(label=_("store"), queryset=Store.objects.none(),
                                   empty_label=None)
    kind = forms.ChoiceField(label=_("service"), choices=TicketKind.choices)
    order_number = forms.CharField(label=_("order number"), max_length=20, required=False,
                                   help_text=_("Needed for a return; optional otherwise."))
    sku = forms.CharField(label=_("SKU of the piece"), max_length=40, required=False,
                          help_text=_("Leave empty when the order has one piece."))
    contact_name = forms.CharField(label=_("name"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("mobile number"), max_length=20, required=False)
    description = forms.CharField(label=_("what is wanted"), max_length=DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores

    def clean(self):
        data = super().clean()
        number = (data.get("order_number") or "").strip().upper()
        data["order"] = data["line"] = None
        if number:
            order = Order.objects.filter(number=number).prefetch_related("lines").first()
            if order is None:
                self.add_error("order_number", gettext("No order with this number."))
                return data
            lines = list(order.lines.all())
            sku = (data.get("sku") or "").strip()
            if sku:
                lines = [line for line in lines if line.sku.lower() == sku.lower()]
            if len(lines) != 1:
                self.add_error("sku", gettext("Give the SKU of one piece of this order."))
                return data
            data["order"], data["line"] = order, lines[0]
        elif data.get("kind") == TicketKind.RETURN:
            self.add_error("order_number", gettext("A return needs the order number."))
        return data


def _may_use(request, perm: str) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (
        user.has_perm(f"orders.{perm}_serviceticket") or user.has_perm("orders.change_order"))


@admin.register(ServiceTicket)
class ServiceTicketAdmin(StoreScopedMixin, admin.ModelAdmin):
    list_display = ["number", "kind", "status", "store", "contact_name", "phone_col",
                    "created_at"]
    list_filter = ["status", "kind", ("store", RelatedOnlyFieldListFilter)]
    search_fields = ["number", "order__number", "contact_name", "line__sku"]
    list_select_related = ["store"]
    date_hierarchy = "created_at"
    inlines = [ServiceTicketEventInline]
    change_form_template = "orders/tickets/admin_change_form.html"
    fields = ["number", "kind", "status", "store", "order", "line", "member", "contact_name",
              "contact_phone", "description", "resolution", "refund", "staff", "created_at",
              "closed_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description=_("mobile number"))
    def phone_col(self, ticket):
        return phone_mask(ticket.contact_phone)

    def has_view_permission(self, request, obj=None):
        return _may_use(request, "view")

    def has_change_permission(self, request, obj=None):
        return _may_use(request, "change")

    def has_add_permission(self, request):
        return _may_use(request, "add")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/move/<str:to>/", wrap(self.move_view),
                 name="orders_serviceticket_move"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        if ticket is None:
            raise Http404  # another store's ticket, or none at all
        extra = {"show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False,
                 "ticket_moves": ticket_moves(ticket) if self.has_change_permission(
                     request, ticket) else [], "note_max": NOTE_MAX}
        return super().change_view(request, object_id, form_url,
                                   {**extra, **(extra_context or {})})

    def move_view(self, request, pk, to):
        """POST: one move of one ticket (through ticket_move), back to its page."""
        if request.method != "POST" or to not in TicketStatus.values:
            raise PermissionDenied
        ticket = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        with reported(request, prefix=ticket.number) as outcome:
            ticket = ticket_move(ticket=ticket, to=to, actor=request.user,
                                 note=request.POST.get("note", ""))
        if outcome.ok:
            messages.success(request, gettext("Ticket %(number)s is now %(status)s.") % {
                "number": ticket.number, "status": ticket.get_status_display()})
        return redirect("admin:orders_serviceticket_change", ticket.pk)

    def add_view(self, request, form_url="", extra_context=None):
        """Open a ticket in store (ticket_open), for one of my stores."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        stores = stores_for(request).filter(kind=StoreKind.STORE, is_active=True).order_by(
            "city", "code")
        form = TicketOpenForm(request.POST or None, stores=stores)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": gettext("Open a service ticket"), "form": form}
        template = "orders/tickets/admin_open.html"
        if request.method != "POST":
            return TemplateResponse(request, template, context)
        if not form.is_valid():
            return TemplateResponse(request, template, context, status=400)
        data = form.cleaned_data
        with reported(form=form) as outcome:
            ticket = ticket_open(kind=data["kind"], order=data["order"], line=data["line"],
                                 store=data["store"], contact_name=data["contact_name"],
                                 contact_phone=data["contact_phone"],
                                 description=data["description"], actor=request.user)
        if not outcome.ok:
            return TemplateResponse(request, template, context, status=outcome.status)
        messages.success(request, gettext("Ticket %(number)s opened.") % {
            "number": ticket.number})
        return redirect("admin:orders_serviceticket_change", ticket.pk)
