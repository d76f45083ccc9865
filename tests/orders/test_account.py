"""The shopper's order pages: a member's orders and order, the guest's signed link, cancel
while unpaid, and the pickup code with its QR shown only while it can open a hand-over."""

import time
from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation

from orders.links import SALT, order_token
from orders.models import Fulfilment, Order, OrderEvent, OrderStatus
from orders.services import order_collect, order_pay, order_place, order_transition
from orders.views.account import order_timeline
from stores.models import OpeningHours, Reservation, StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory, warehouse

from .factories import pay, pickup_order

S = OrderStatus


def url(name, *args, language="zh-hans", **kwargs):
    """A page's address in ``language`` (reversed under it: the path carries the language)."""
    with translation.override(language):
        return reverse(name, args=args or None, kwargs=kwargs or None)


def link(order, language="zh-hans"):
    return url("orders:by_link", language=language, token=order_token(order))


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def member(db):
    return UserFactory(name="王女士")


@pytest.fixture
def store(db):
    store = StoreFactory(code="sh-test", name="上海南京西路店", address="南京西路 1266 号")
    OpeningHours.objects.create(store=store, weekday=0, opens="10:00", closes="22:00")
    return store


@pytest.mark.django_db
def test_my_orders_needs_a_sign_in(client):
    response = client.get(reverse("orders:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_a_member_sees_their_orders_newest_first_with_status_and_no_one_elses(client, member, store):
    older = pickup_order(store=store, member=member, paid=True)
    Order.objects.filter(pk=older.pk).update(placed_at=timezone.now() - timezone.timedelta(days=3))
    newer = pickup_order(store=store, member=member)
    someone_else = pickup_order(store=store, member=UserFactory())
    client.force_login(member)
    response = client.get(url("orders:mine", language="en"))
    assert response.status_code == 200
    page = html(response)
    assert page.index(newer.number) < page.index(older.number)
    assert someone_else.number not in page
    assert "Ready for pickup" in page and "Awaiting payment" in page
    assert reverse("orders:detail", args=[older.number]) in page
    assert response["Cache-Control"].startswith("max-age=0")
    # The account menu leads here.
    assert html(client.get(url("members:account", language="en"))).count(reverse("orders:mine")) >= 1


@pytest.mark.django_db
def test_a_member_opens_their_order_with_frozen_prices_and_the_store(client, member, store):
    variant = VariantFactory(list_price=Decimal("1800.00"))
    order = pickup_order(store=store, member=member, variants=[variant], quantity=2, paid=True)
    variant.list_price = Decimal("2500.00")
    variant.save()
    client.force_login(member)
    response = client.get(url("orders:detail", order.number, language="en"))
    assert response.status_code == 200
    page = html(response)
    assert order.number in page and "¥1,800" in page and "¥3,600" in page and "¥2,500" not in page
    assert "南京西路 1266 号" in page and "10:00–22:00" in page
    assert "Payment received" in page
    service = reverse("orders:ticket_new", kwargs={"number": order.number})
    assert service not in page  # not handed over yet
    order_collect(order=order, store=store, actor=StaffFactory())
    page = html(client.get(url("orders:detail", order.number, language="en")))
    assert f'href="{service}"' in page or f'href="/en{service}"' in page
    assert "Ask for a service" in page
    assert "Ask for a service" not in html(client.get(link(order, language="en")))


@pytest.mark.django_db
def test_another_members_order_is_not_found(client, member, store):
    order = pickup_order(store=store, member=UserFactory())
    client.force_login(member)
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404
    assert client.post(reverse("orders:cancel", args=[order.number])).status_code == 404
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


@pytest.mark.django_db
def test_a_guest_opens_the_order_by_its_link_in_either_language(client, store):
    order = pickup_order(store=store, paid=True, contact_name="林小姐")
    english = client.get(link(order, language="en"))
    assert english.status_code == 200
    assert order.number in html(english) and 'lang="en"' in html(english)
    chinese = client.get(link(order))
    assert chinese.status_code == 200 and "待自提" in html(chinese)
    # The signed link never leaves the shop in a Referer, yet the page's own forms
    # still post a real Origin (no-referrer made Chromium send "Origin: null": 403).
    assert 'name="referrer" content="same-origin"' in html(chinese)
    assert chinese["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_a_forged_or_altered_link_is_a_clear_404(client, store):
    order = pickup_order(store=store, paid=True)
    token = order_token(order)
    for bad in ("nonsense", token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                token.replace(order.number,
                              order.number[:-1] + ("Z" if order.number[-1] != "Z" else "Y"))):
        response = client.get(url("orders:by_link", language="en", token=bad))
        assert response.status_code == 404
        assert "This order link does not work" in html(response)
        assert order.pickup_code not in html(response)


@pytest.mark.django_db
def test_an_expired_link_is_a_404(client, store):
    order = pickup_order(store=store, paid=True)

    class LastYear(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 400 * 24 * 3600)

    old = LastYear(salt=SALT).sign(order.number)
    response = client.get(url("orders:by_link", language="en", token=old))
    assert response.status_code == 404 and "This order link does not work" in html(response)


@pytest.mark.django_db
def test_a_guest_cancels_an_unpaid_order_and_its_pieces_go_back(client, store):
    order = pickup_order(store=store)
    level = StockLevel.objects.get(store=store)
    assert level.reserved == 1
    page = html(client.get(link(order, language="en")))
    assert "Cancel this order" in page and "csrfmiddlewaretoken" in page
    response = client.post(reverse("orders:cancel_by_link", kwargs={"token": order_token(order)}))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert StockLevel.objects.get(store=store).reserved == 0
    event = OrderEvent.objects.get(order=order, kind="status", data__to=S.CANCELLED)
    assert event.data["via"] == "shopper" and event.actor is None
    after = html(client.get(link(order, language="en")))
    assert "This order is cancelled" in after and "Cancel this order" not in after


@pytest.mark.django_db
def test_a_member_cancels_their_unpaid_order_but_not_a_paid_one(client, member, store):
    unpaid = pickup_order(store=store, member=member)
    paid = pickup_order(store=store, member=member, paid=True)
    client.force_login(member)
    client.post(reverse("orders:cancel", args=[unpaid.number]))
    assert Order.objects.get(pk=unpaid.pk).status == S.CANCELLED
    assert OrderEvent.objects.get(order=unpaid, data__to=S.CANCELLED).actor == member
    response = client.post(url("orders:cancel", paid.number, language="en"), follow=True)
    assert Order.objects.get(pk=paid.pk).status == S.READY_FOR_PICKUP
    assert "already paid; ask for a refund instead" in html(response)
    assert "Cancel this order" not in html(response)


@pytest.mark.django_db
def test_cancel_takes_post_only_and_a_bad_link_cancels_nothing(client, store):
    order = pickup_order(store=store)
    token = order_token(order)
    assert client.get(reverse("orders:cancel_by_link", kwargs={"token": token})).status_code == 405
    assert client.post(reverse("orders:cancel_by_link", kwargs={"token": token + "x"})
                       ).status_code == 404
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


@pytest.mark.django_db
def test_the_pickup_code_and_qr_show_only_while_they_can_open_a_hand_over(client, store):
    waiting_online = pickup_order(store=store)
    at_counter = pickup_order(store=store, pay_at_counter=True)
    ready = pickup_order(store=store, paid=True)
    collected = pickup_order(store=store, paid=True)
    order_collect(order=collected, store=store, actor=StaffFactory())

    def shows_code(order):
        page = html(client.get(link(order, language="en")))
        has_code = order.pickup_code in page
        has_qr = "<svg" in page and "QR image of the pickup code" in page
        assert has_code == has_qr
        return has_code

    assert not shows_code(waiting_online)
    assert shows_code(at_counter)
    assert "to pay at the counter" in html(client.get(link(at_counter, language="en")))
    assert shows_code(ready)
    assert not shows_code(collected)
    Order.objects.filter(pk=at_counter.pk).update(expires_at=timezone.now() - timezone.timedelta(
        minutes=1))
    assert not shows_code(at_counter)


@pytest.mark.django_db
def test_a_delivery_shows_its_address_and_no_code(client):
    depot = warehouse()
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=2)
    order = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY, stock_from=depot,
                        contact_name="林小姐", contact_phone="+8613800138000")
    Order.objects.filter(pk=order.pk).update(address={
        "recipient": "林小姐", "phone": "+8613800138000", "province": "上海市", "city": "上海市",
        "district": "静安区", "street": "南京西路 1 号", "postcode": "200040"})
    pay(order)
    order_transition(order=order, to=S.SHIPPED, via="test")
    page = html(client.get(link(order, language="en")))
    assert "南京西路 1 号" in page and "Pickup code" not in page
    assert [s.key for s in order_timeline(Order.objects.get(pk=order.pk)) if s.done] == [
        "placed", S.PAID, S.SHIPPED]


@pytest.mark.django_db
def test_the_return_from_payment_waits_for_the_webhook_then_says_paid(client, store):
    order = pickup_order(store=store)
    page = html(client.get(link(order, language="en")))
    assert 'http-equiv="refresh"' in page and "Waiting for the payment confirmation" in page
    pay(order)
    page = html(client.get(link(order, language="en")))
    assert 'http-equiv="refresh"' not in page and "Payment received" in page
    assert order.pickup_code in page
    # A pay-at-counter order does not wait for a webhook.
    counter = pickup_order(store=store, pay_at_counter=True)
    assert 'http-equiv="refresh"' not in html(client.get(link(counter, language="en")))


@pytest.mark.django_db
def test_pay_now_sends_an_unpaid_order_to_the_payment_page(client, store, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order(store=store)
    assert "Pay now" in html(client.get(link(order, language="en")))
    response = client.post(reverse("orders:pay_by_link", kwargs={"token": order_token(order)}))
    assert response.status_code == 302
    assert "/pay/test/" in response["Location"]
    paid = pay(pickup_order(store=store))
    assert "Pay now" not in html(client.get(link(paid, language="en")))
    refused = client.post(reverse("orders:pay_by_link", kwargs={"token": order_token(paid)}))
    assert refused.status_code == 302 and paid.number in refused["Location"]
    assert "/pay/" not in refused["Location"]


@pytest.mark.django_db
def test_the_timeline_follows_the_events(store):
    order = pickup_order(store=store)
    steps = order_timeline(Order.objects.prefetch_related("events").get(pk=order.pk))
    assert [s.key for s in steps] == ["placed", S.PAID, S.READY_FOR_PICKUP, S.COLLECTED]
    assert [s.done for s in steps] == [True, False, False, False]
    order_pay(order=order, provider="test", reference="r1", amount=order.total,
              currency=order.currency)
    order_collect(order=order, store=store, actor=StaffFactory())
    steps = order_timeline(Order.objects.prefetch_related("events").get(pk=order.pk))
    assert [s.key for s in steps] == ["placed", S.PAID, S.READY_FOR_PICKUP, S.COLLECTED,
                                      S.COMPLETED]
    assert all(s.done for s in steps) and steps[-1].current
    cancelled = pickup_order(store=store)
    order_transition(order=cancelled, to=S.CANCELLED, via="test")
    steps = order_timeline(Order.objects.prefetch_related("events").get(pk=cancelled.pk))
    assert [s.key for s in steps] == ["placed", S.CANCELLED]
    assert not Reservation.objects.filter(reference=cancelled.number, status="active").exists()
