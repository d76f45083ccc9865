"""After-sales service tickets: the transition table (every allowed and refused move), the
return window, a return closing with restock and refund (once, even with two clerks at
once), members seeing only their tickets, and the admin scoped to the staff's stores."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation

from members import roles
from orders.models import (
    Order,
    OrderStatus,
    PaymentStatus,
    Refund,
    RefundStatus,
    ServiceTicket,
    ServiceTicketEvent,
    TicketKind,
    TicketStatus,
)
from orders.services import order_collect
from orders.services.tickets import (
    TICKET_TRANSITIONS,
    ReturnNotAllowed,
    TicketInvalid,
    TicketTransitionNotAllowed,
    ticket_move,
    ticket_open,
)
from stores.errors import NotYourStore
from stores.models import StockLevel
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.fixtures import staff_of
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.stripe_standin import stripe_standin_fixture  # noqa: F401
from tests.orders.test_payments import post_event, session_event
from tests.stores.factories import StoreFactory

from .factories import pickup_order

T = TicketStatus
PASSWORD = "correct horse 42"


@pytest.fixture
def shop(db):
    roles.roles_sync(apps)
    a, b = StoreFactory(code="svc-a"), StoreFactory(code="svc-b")
    return {"a": a, "b": b, "clerk_a": staff_of(a), "clerk_b": staff_of(b),
            "member": UserFactory(), "other": UserFactory()}


def collected_order(shop, member=None, variants=None) -> Order:
    """A pickup order paid and handed over at store a (completed now)."""
    order = pickup_order(store=shop["a"], member=member or shop["member"], paid=True,
                         variants=variants)
    return order_collect(order=order, store=shop["a"], actor=shop["clerk_a"])


def a_return(shop, order=None) -> ServiceTicket:
    order = order or collected_order(shop)
    return ticket_open(kind=TicketKind.RETURN, member=order.member, order=order,
                       line=order.lines.get(), store=shop["a"], actor=order.member,
                       description="Too small")


def walk_to_ready(ticket, actor):
    for to in (T.RECEIVED, T.IN_PROGRESS, T.READY):
        ticket = ticket_move(ticket=ticket, to=to, actor=actor)
    return ticket


# --- The table ---------------------------------------------------------------------------


@pytest.mark.parametrize("start", list(T))
@pytest.mark.parametrize("to", list(T))
def test_every_move_of_the_table(shop, start, to):
    ticket = ticket_open(kind=TicketKind.REPAIR, store=shop["a"], contact_name="王先生",
                         contact_phone="13800138000", actor=shop["clerk_a"])
    ServiceTicket.objects.filter(pk=ticket.pk).update(status=start)  # set up the start state
    ticket.refresh_from_db()
    events_before = ticket.events.count()
    if start == to:
        assert ticket_move(ticket=ticket, to=to, actor=shop["clerk_a"]).status == start
        assert ticket.events.count() == events_before  # idempotent: nothing written
    elif to in TICKET_TRANSITIONS[start]:
        moved = ticket_move(ticket=ticket, to=to, actor=shop["clerk_a"], note="done")
        assert moved.status == to
        event = ticket.events.last()
        assert (event.status, event.actor, event.note) == (to, shop["clerk_a"], "done")
        assert (moved.closed_at is not None) == (to in (T.CLOSED, T.REFUSED))
    else:
        with pytest.raises(TicketTransitionNotAllowed) as exc:
            ticket_move(ticket=ticket, to=to, actor=shop["clerk_a"])
        assert exc.value.status == 409
        ticket.refresh_from_db()
        assert ticket.status == start and ticket.events.count() == events_before


def test_table_shape():
    assert TICKET_TRANSITIONS[T.OPEN] == {T.RECEIVED, T.REFUSED}
    assert TICKET_TRANSITIONS[T.RECEIVED] == {T.IN_PROGRESS, T.REFUSED}
    assert TICKET_TRANSITIONS[T.IN_PROGRESS] == {T.READY}
    assert TICKET_TRANSITIONS[T.READY] == {T.CLOSED}
    assert not TICKET_TRANSITIONS[T.CLOSED] and not TICKET_TRANSITIONS[T.REFUSED]


def test_unknown_status_and_other_store_refused(shop):
    ticket = ticket_open(kind=TicketKind.CLEANING, store=shop["a"], contact_name="王先生",
                         actor=shop["clerk_a"])
    with pytest.raises(Exception) as exc:
        ticket_move(ticket=ticket, to="lost", actor=shop["clerk_a"])
    assert exc.value.code == "ticket_status_invalid"
    with pytest.raises(NotYourStore):
        ticket_move(ticket=ticket, to=T.RECEIVED, actor=shop["clerk_b"])
    with pytest.raises(NotYourStore):
        ticket_open(kind=TicketKind.CLEANING, store=shop["a"], contact_name="x",
                    actor=shop["clerk_b"])
    ticket.refresh_from_db()
    assert ticket.status == T.OPEN


def test_ticket_number_and_first_event(shop):
    ticket = a_return(shop)
    assert ticket.number.startswith("S") and len(ticket.number) == 13
    event = ticket.events.get()
    assert (event.status, event.actor) == (T.OPEN, shop["member"])
    assert ticket.contact_name == shop["member"].name


# --- Opening ------------------------------------------------------------------------------


def test_member_opens_only_for_own_order(shop):
    order = collected_order(shop)
    with pytest.raises(TicketInvalid) as exc:
        ticket_open(kind=TicketKind.RESIZE, member=shop["other"], order=order,
                    line=order.lines.get(), store=shop["a"], actor=shop["other"])
    assert exc.value.code == "not_your_order"
    with pytest.raises(TicketInvalid):
        ticket_open(kind=TicketKind.RESIZE, member=shop["member"], store=shop["a"],
                    actor=shop["member"])  # online: a piece of an order is needed
    assert not ServiceTicket.objects.exists()


def test_return_window(shop, settings):
    settings.RETURN_WINDOW_DAYS = 7
    order = collected_order(shop)
    Order.objects.filter(pk=order.pk).update(
        completed_at=timezone.now() - timedelta(days=7, minutes=1))
    with pytest.raises(ReturnNotAllowed) as exc:
        a_return(shop, order)
    assert exc.value.code == "return_window_closed" and exc.value.status == 409
    Order.objects.filter(pk=order.pk).update(
        completed_at=timezone.now() - timedelta(days=6, hours=23))
    assert a_return(shop, order).status == T.OPEN
    # Other services have no window.
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=400))
    ticket_open(kind=TicketKind.CLEANING, member=order.member, order=order,
                line=order.lines.get(), store=shop["a"], actor=order.member)


def test_return_needs_a_handed_over_order(shop):
    order = pickup_order(store=shop["a"], member=shop["member"], paid=True)  # ready for pickup
    with pytest.raises(ReturnNotAllowed):
        a_return(shop, order)
    assert not ServiceTicket.objects.exists()


def test_one_piece_one_return(shop):
    ticket = a_return(shop)
    with pytest.raises(ReturnNotAllowed) as exc:
        a_return(shop, ticket.order)
    assert exc.value.code == "return_exists"
    ticket_move(ticket=ticket, to=T.REFUSED, actor=shop["clerk_a"], note="Worn")
    assert a_return(shop, ticket.order).status == T.OPEN  # a refused return may be asked again


# --- Closing a return ---------------------------------------------------------------------


def test_return_closes_with_restock_and_refund(shop):
    ticket = a_return(shop)
    line = ticket.line
    on_hand = StockLevel.objects.get(store=shop["a"], variant=line.variant).on_hand
    ticket = walk_to_ready(ticket, shop["clerk_a"])
    assert not Refund.objects.exists()  # no money back before the close

    closed = ticket_move(ticket=ticket, to=T.CLOSED, actor=shop["clerk_a"], note="Refunded")
    assert closed.status == T.CLOSED and closed.resolution == "Refunded"
    refund = Refund.objects.get()
    assert closed.refund == refund
    assert refund.amount == line.line_total and refund.status == "succeeded"
    assert refund.reason == f"return {ticket.number}" and refund.actor == shop["clerk_a"]
    assert Order.objects.get(pk=ticket.order_id).status == OrderStatus.REFUNDED
    assert StockLevel.objects.get(store=shop["a"], variant=line.variant).on_hand == on_hand + 1
    assert list(closed.events.values_list("status", flat=True)) == [
        T.OPEN, T.RECEIVED, T.IN_PROGRESS, T.READY, T.CLOSED]

    # Again: nothing more is refunded or restocked.
    ticket_move(ticket=closed, to=T.CLOSED, actor=shop["clerk_a"])
    assert Refund.objects.count() == 1
    assert StockLevel.objects.get(store=shop["a"], variant=line.variant).on_hand == on_hand + 1


def _stripe_return(shop, client):
    order = pickup_order(store=shop["a"], member=shop["member"])
    assert post_event(client, session_event(order)).status_code == 200
    order = order_collect(order=Order.objects.get(pk=order.pk), store=shop["a"],
                          actor=shop["clerk_a"])
    return walk_to_ready(a_return(shop, order), shop["clerk_a"])


def test_a_return_paid_by_stripe_is_refunded_through_stripe(shop, client, stripe_standin):
    ticket = _stripe_return(shop, client)
    line = ticket.line
    closed = ticket_move(ticket=ticket, to=T.CLOSED, actor=shop["clerk_a"])
    [call] = stripe_standin.calls("POST", "/v1/refunds")
    assert call["params"]["amount"] == str(int(line.line_total * 100))
    assert closed.status == T.CLOSED and closed.refund.status == RefundStatus.SUCCEEDED
    assert closed.refund.reference == stripe_standin.refunds[0]["id"]
    assert ticket.order.payments.get().status == PaymentStatus.REFUNDED


def test_a_refused_stripe_refund_leaves_the_return_open_and_the_stock_alone(
        shop, client, stripe_standin):
    ticket = _stripe_return(shop, client)
    level = StockLevel.objects.get(store=shop["a"], variant=ticket.line.variant)
    stripe_standin.refuse_refunds = True
    with pytest.raises(Exception) as exc:
        ticket_move(ticket=ticket, to=T.CLOSED, actor=shop["clerk_a"])
    assert exc.value.status == 502
    ticket.refresh_from_db()
    assert ticket.status == T.READY and ticket.refund is None
    assert StockLevel.objects.get(pk=level.pk).on_hand == level.on_hand
    # Stripe takes it later: closing again refunds once and restocks.
    stripe_standin.refuse_refunds = False
    closed = ticket_move(ticket=ticket, to=T.CLOSED, actor=shop["clerk_a"])
    assert closed.status == T.CLOSED and closed.refund.status == RefundStatus.SUCCEEDED
    assert StockLevel.objects.get(pk=level.pk).on_hand == level.on_hand + 1


def test_return_close_before_ready_refused_without_refund(shop):
    ticket = ticket_move(ticket=a_return(shop), to=T.RECEIVED, actor=shop["clerk_a"])
    with pytest.raises(TicketTransitionNotAllowed):
        ticket_move(ticket=ticket, to=T.CLOSED, actor=shop["clerk_a"])
    assert not Refund.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_clerks_close_one_return_once():
    roles.roles_sync(apps)
    store = StoreFactory(code="svc-race")
    clerk = staff_of(store)
    member = UserFactory()
    # Two pieces: a second refund of one piece's price would still fit in what was paid,
    # so only the ticket's own guard stops it.
    order = pickup_order(store=store, member=member, paid=True,
                         variants=[VariantFactory(), VariantFactory()])
    order = order_collect(order=order, store=store, actor=clerk)
    line = order.lines.order_by("pk").first()
    ticket = ticket_open(kind=TicketKind.RETURN, member=member, order=order, line=line,
                         store=store, actor=member)
    ticket = walk_to_ready(ticket, clerk)
    on_hand = StockLevel.objects.get(store=store, variant=line.variant).on_hand

    results, errors = race(4, lambda i: ticket_move(
        ticket=ServiceTicket.objects.get(pk=ticket.pk), to=T.CLOSED, actor=clerk))

    assert results, errors
    assert all(getattr(e, "code", None) == "ticket_busy" for e in errors), errors
    assert Refund.objects.filter(payment__order=order).count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert StockLevel.objects.get(store=store, variant=line.variant).on_hand == on_hand + 1
    assert ServiceTicketEvent.objects.filter(ticket=ticket, status=T.CLOSED).count() == 1


# --- Member pages -------------------------------------------------------------------------


def test_pages_need_login(client, shop):
    response = client.get(reverse("orders:tickets"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_member_opens_from_order_and_follows_it(client, shop):
    order = collected_order(shop, variants=[VariantFactory(size="12")])  # a ring, sized
    client.force_login(shop["member"])
    url = reverse("orders:ticket_new", args=[order.number])
    assert url in client.get(reverse("orders:tickets")).content.decode()  # where it starts
    page = client.get(url)
    assert page.status_code == 200 and order.lines.get().product_name in page.content.decode()

    response = client.post(url, {"line": order.lines.get().pk, "kind": "resize",
                                 "store": shop["a"].pk, "description": "One size up"})
    ticket = ServiceTicket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "orders:ticket", args=[ticket.number])
    assert (ticket.kind, ticket.member, ticket.line) == ("resize", shop["member"],
                                                         order.lines.get())

    ticket_move(ticket=ticket, to=T.RECEIVED, actor=shop["clerk_a"], note="At the workshop")
    page = client.get(reverse("orders:ticket", args=[ticket.number])).content.decode()
    assert "At the workshop" in page and "One size up" in page
    assert shop["clerk_a"].name not in page  # staff names are never shown
    listing = client.get(reverse("orders:tickets")).content.decode()
    assert ticket.number in listing


def test_member_form_errors_are_4xx(client, shop, settings):
    order = collected_order(shop)
    client.force_login(shop["member"])
    with translation.override("en"):  # the English page: the words asserted are the msgids
        url = reverse("orders:ticket_new", args=[order.number])
    assert url.startswith("/en/")
    assert client.post(url, {"kind": "resize", "store": shop["a"].pk}).status_code == 400
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=90))
    response = client.post(url, {"line": order.lines.get().pk, "kind": "return",
                                 "store": shop["a"].pk})
    # Refused for the return window, which the message gives.
    alert = response.content.decode().split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert response.status_code == 409 and f"{settings.RETURN_WINDOW_DAYS} days" in alert
    assert not ServiceTicket.objects.exists()


def test_members_see_only_their_tickets(client, shop):
    mine = a_return(shop)
    theirs = a_return(shop, collected_order(shop, member=shop["other"]))
    client.force_login(shop["member"])
    listing = client.get(reverse("orders:tickets")).content.decode()
    assert mine.number in listing and theirs.number not in listing
    assert client.get(reverse("orders:ticket", args=[theirs.number])).status_code == 404
    assert client.get(reverse("orders:ticket_new", args=[theirs.order.number])).status_code == 404


# --- Admin --------------------------------------------------------------------------------


def test_admin_scoped_to_staff_stores(client, shop):
    ticket = a_return(shop)
    client.force_login(shop["clerk_b"])
    assert client.get(reverse("admin:orders_serviceticket_changelist")).status_code == 200
    assert ticket.number not in client.get(
        reverse("admin:orders_serviceticket_changelist")).content.decode()
    assert client.get(reverse("admin:orders_serviceticket_change",
                              args=[ticket.pk])).status_code == 404
    move = reverse("admin:orders_serviceticket_move", args=[ticket.pk, "received"])
    assert client.post(move).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == T.OPEN
    # Superusers see every store's tickets.
    boss = StaffFactory(is_superuser=True)
    client.force_login(boss)
    assert ticket.number in client.get(
        reverse("admin:orders_serviceticket_changelist")).content.decode()
    assert client.get(reverse("admin:orders_serviceticket_change",
                              args=[ticket.pk])).status_code == 200


def test_admin_moves_with_buttons(client, shop):
    ticket = a_return(shop)
    client.force_login(shop["clerk_a"])
    page = client.get(reverse("admin:orders_serviceticket_change", args=[ticket.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("admin:orders_serviceticket_move", args=[ticket.pk, "received"]) in html
    assert reverse("admin:orders_serviceticket_move", args=[ticket.pk, "closed"]) not in html
    assert 'name="status"' not in html  # read-only status

    response = client.post(reverse("admin:orders_serviceticket_move",
                                   args=[ticket.pk, "received"]), {"note": "Checked in"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == T.RECEIVED and ticket.events.last().note == "Checked in"
    # A refused move is a message, not a 500.
    response = client.post(reverse("admin:orders_serviceticket_move",
                                   args=[ticket.pk, "closed"]), follow=True)
    assert response.status_code == 200 and ticket.number in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == T.RECEIVED
    assert client.get(reverse("admin:orders_serviceticket_move",
                              args=[ticket.pk, "ready"])).status_code == 403


def test_admin_opens_a_ticket_in_store(client, shop):
    order = collected_order(shop)
    client.force_login(shop["clerk_a"])
    url = reverse("admin:orders_serviceticket_add")
    assert client.get(url).status_code == 200
    response = client.post(url, {"store": shop["a"].pk, "kind": "return",
                                 "order_number": order.number, "description": "Changed mind"})
    ticket = ServiceTicket.objects.get()
    assert response.status_code == 302
    assert (ticket.kind, ticket.order, ticket.member, ticket.staff) == (
        "return", order, shop["member"], shop["clerk_a"])
    # A walk-in without an order; another store is not offered.
    response = client.post(url, {"store": shop["b"].pk, "kind": "cleaning",
                                 "contact_name": "李女士"})
    assert response.status_code == 400
    response = client.post(url, {"store": shop["a"].pk, "kind": "cleaning",
                                 "contact_name": "李女士", "contact_phone": "13900139000"})
    assert response.status_code == 302
    assert ServiceTicket.objects.filter(kind="cleaning", member=None).count() == 1
    # A return without an order number is a form error.
    response = client.post(url, {"store": shop["a"].pk, "kind": "return",
                                 "contact_name": "李女士"})
    assert response.status_code == 400


def test_resizing_is_offered_only_for_pieces_with_a_size(client, shop):
    earrings = collected_order(shop, variants=[VariantFactory(size="")])
    client.force_login(shop["member"])
    with translation.override("en"):
        url = reverse("orders:ticket_new", args=[earrings.number])
    page = client.get(url).content.decode()
    assert 'value="resize"' not in page and 'value="cleaning"' in page
    refused = client.post(url, {"line": earrings.lines.get().pk, "kind": "resize",
                                "store": shop["a"].pk})
    assert refused.status_code == 400 and "no size to change" in refused.content.decode()
    with pytest.raises(TicketInvalid) as caught:
        ticket_open(kind=TicketKind.RESIZE, member=shop["member"], order=earrings,
                    line=earrings.lines.get(), store=shop["a"], actor=shop["member"])
    assert caught.value.code == "not_resizable"
    assert not ServiceTicket.objects.exists()
    ring = collected_order(shop, variants=[VariantFactory(size="14")])
    with translation.override("en"):
        ring_url = reverse("orders:ticket_new", args=[ring.number])
    assert 'value="resize"' in client.get(ring_url).content.decode()
