"""After-sales pages for members: ask for a service on a piece of one of their orders, list
their service tickets, follow one ticket's history.

    orders:tickets      /account/services/                  my service tickets, newest first
    orders:ticket_new   /account/orders/<number>/service/   GET the form, POST open a ticket
    orders:ticket       /account/services/<number>/         one of my tickets (others: 404)

Thin: parse, call orders.services.tickets, render. Private pages (login, never cached).
Staff-only data (who handled it, refunds, staff names in the history) is never shown.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from o2o.errors import reported
from stores.models import Store, StoreKind

from ..models import Order, ServiceTicket, TicketKind, TicketStatus
from ..selectors import SERVICEABLE_ORDER_STATUSES, orders_serviceable
from ..services.tickets import DESCRIPTION_MAX, line_resizable, ticket_open

T = TicketStatus
# The usual path of a ticket, shown as steps to come.
_PATH = [T.OPEN, T.RECEIVED, T.IN_PROGRESS, T.READY, T.CLOSED]


NOT_RESIZABLE = gettext_lazy("This piece has no size to change: resizing is for rings, "
                             "bangles and chains.")


class TicketForm(forms.Form):
    line = forms.TypedChoiceField(label=gettext_lazy("Piece"), coerce=int,
                                  widget=forms.RadioSelect)
    kind = forms.ChoiceField(label=gettext_lazy("Service"), choices=TicketKind.choices,
                             widget=forms.RadioSelect)
    store = forms.ModelChoiceField(label=gettext_lazy("Store"), queryset=Store.objects.none(),
                                   empty_label=None,
                                   help_text=gettext_lazy("Where you will bring the piece."))
    contact_phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=20,
                                    required=False)
    description = forms.CharField(
        label=gettext_lazy("What would you like us to do?"), max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        lines = list(order.lines.all())
        self.fields["line"].choices = [
            (line.pk, f"{line.product_name} · {line.sku}") for line in lines]
        self.resizable = {line.pk for line in lines if line_resizable(line)}
        if not self.resizable:  # nothing in this order has a size to change
            self.fields["kind"].choices = [
                c for c in TicketKind.choices if c[0] != TicketKind.RESIZE]
            self.fields["kind"].error_messages["invalid_choice"] = NOT_RESIZABLE
        self.fields["store"].queryset = Store.objects.filter(
            kind=StoreKind.STORE, is_active=True).order_by("city", "code")

    def clean(self):
        data = super().clean()
        if data.get("kind") == TicketKind.RESIZE and data.get("line") not in self.resizable:
            self.add_error("kind", NOT_RESIZABLE)
        return data


def _own_order(request, number: str) -> Order:
    order = (Order.objects.filter(member=request.user, number=number)
             .select_related("store").prefetch_related("lines__variant").first())
    if order is None:
        raise Http404
    return order


@never_cache
@login_required
def ticket_list(request):
    tickets = (ServiceTicket.objects.filter(member=request.user)
               .select_related("store", "line", "order").order_by("-created_at")[:100])
    # Where a new request starts: the member's recent orders whose pieces reached them.
    orders = orders_serviceable(member=request.user)
    return render(request, "orders/tickets/list.html", {"tickets": tickets, "orders": orders})


@never_cache
@login_required
def ticket_new(request, number: str):
    order = _own_order(request, number)
    serviceable = order.status in SERVICEABLE_ORDER_STATUSES
    initial = {"store": order.store_id, "contact_phone": str(request.user.phone or "")}
    if line_pk := request.GET.get("line", ""):
        initial["line"] = line_pk
    form = TicketForm(request.POST or None, order=order, initial=initial)
    status = 200
    if request.method == "POST":
        if not serviceable:
            status = 409
            form.add_error(None, _("A service can be asked for once the piece has reached you."))
        elif form.is_valid():
            data = form.cleaned_data
            line = next((x for x in order.lines.all() if x.pk == data["line"]), None)
            with reported(form=form) as outcome:
                ticket = ticket_open(kind=data["kind"], member=request.user, order=order,
                                     line=line, store=data["store"],
                                     contact_phone=data["contact_phone"],
                                     description=data["description"], actor=request.user)
            status = outcome.status
            if outcome.ok:
                messages.success(request, _("Your request %(number)s is registered. We will "
                                            "tell you when the store has your piece.")
                                 % {"number": ticket.number})
                return redirect("orders:ticket", ticket.number)
        else:
            status = 400
    return render(request, "orders/tickets/new.html",
                  {"order": order, "form": form, "serviceable": serviceable}, status=status)


@never_cache
@login_required
def ticket_detail(request, number: str):
    ticket = get_object_or_404(
        ServiceTicket.objects.select_related("store", "line", "order"),
        member=request.user, number=number)
    events = list(ticket.events.all())
    seen = {e.status for e in events}
    upcoming = [] if ticket.status in (T.CLOSED, T.REFUSED) else [
        s for s in _PATH if s not in seen]
    history = [{"status": e.get_status_display(), "code": e.status, "at": e.at,
                "note": e.note, "by_you": e.actor_id == request.user.pk} for e in events]
    return render(request, "orders/tickets/detail.html",
                  {"ticket": ticket, "history": history,
                   "upcoming": [T(s).label for s in upcoming]})


urlpatterns = [
    path("account/services/", ticket_list, name="tickets"),
    path("account/services/<str:number>/", ticket_detail, name="ticket"),
    path("account/orders/<str:number>/service/", ticket_new, name="ticket_new"),
]
