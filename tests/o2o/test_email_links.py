"""Every email the shop sends links to pages of the running shop, and each opens (200).

The shop runs on pytest-django's live server, on a random port (never 8000), with
SHOP_BASE_URL set to it the way `make run` sets it to the port it serves; a link built
with a fixed host or port, or one that leads to an error page, fails here. Each kind
of email is made by the shop's own message builder for a record in the state that
sends it (order and try-on emails) or by the shop's own forms over HTTP (allauth's
password reset and address confirmation), and every link in its text and HTML parts
is fetched.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail

from o2o.devstack import shop_environment
from o2o.outbox import outbox_deliver
from orders import emails as order_emails
from orders.models import Fulfilment
from orders.services import order_collect, order_place, order_transition
from orders.services.payments import payment_refund
from stores.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    stock_receive,
)
from stores.services.emails import Kind, appointment_message
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pay, pickup_order
from tests.stores.factories import days_ahead, local, tryon_store, warehouse

pytestmark = pytest.mark.django_db(transaction=True)

URL = re.compile(r"""https?://[^\s"'<>]+""")


def links(message) -> set[str]:
    parts = [message.body] + [content for content, _type in getattr(message, "alternatives", [])]
    found = set()
    for part in parts:
        for url in URL.findall(part):
            found.add(url.rstrip(".,;)"))
    return found


@pytest.fixture
def shop(live_server, settings):
    environment = shop_environment({}, int(urlsplit(live_server.url).port))
    settings.SHOP_BASE_URL = environment["SHOP_BASE_URL"]
    assert urlsplit(settings.SHOP_BASE_URL).port == urlsplit(live_server.url).port != 8000
    return settings.SHOP_BASE_URL


def assert_opens(shop: str, message) -> None:
    found = links(message)
    assert found, f"no link in {message.subject!r}"
    for url in found:
        assert url.startswith(shop + "/"), f"{message.subject!r} links away from the shop: {url}"
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, (message.subject, url, response.status_code)


def test_the_senders_name_is_the_shops_brand(settings):
    assert settings.DEFAULT_FROM_EMAIL.startswith("金缘珠宝 <")


def test_every_order_email_links_to_a_page_of_the_running_shop(shop, settings):
    store = tryon_store()
    counter = pickup_order(store=store, pay_at_counter=True, contact_email="a@example.com")
    ready = pay(pickup_order(store=store, contact_email="b@example.com", language="en"))
    collected = pay(pickup_order(store=store, contact_email="c@example.com"))
    order_collect(order=collected, store=store, actor=StaffFactory())
    depot = warehouse()
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=2)
    delivery = pay(order_place(lines=[(variant, 2)], fulfilment=Fulfilment.DELIVERY,
                               stock_from=depot, contact_name="Ms Lin",
                               contact_email="d@example.com", language="en"))
    order_transition(order=delivery, to="shipped", via="admin",
                     data={"carrier": "SF Express", "tracking": "SF1"})
    order_transition(order=delivery, to="delivered", via="admin")
    payment_refund(order=delivery, amount=delivery.total / 2, actor=StaffFactory())
    refunded = pay(pickup_order(store=store, contact_email="e@example.com"))
    payment_refund(order=refunded, actor=StaffFactory())
    cases = [(counter, order_emails.PLACED), (ready, order_emails.PLACED),
             (ready, order_emails.READY_FOR_PICKUP), (collected, order_emails.COLLECTED),
             (delivery, order_emails.SHIPPED), (delivery, order_emails.PARTIALLY_REFUNDED),
             (refunded, order_emails.REFUNDED)]
    assert {kind for _order, kind in cases} == set(order_emails.KINDS)
    for order, kind in cases:
        message = order_emails.order_message(order, kind)
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        assert_opens(shop, message)


def test_every_try_on_email_links_to_a_page_of_the_running_shop(shop):
    store = tryon_store()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=2)
    appointment = appointment_book(
        store=store, starts_at=local(store, days_ahead(store, 3), 15), variant_ids=[variant.pk],
        contact_name="林小姐", contact_phone="13800138000", contact_email="lin@example.com")
    for kind in (Kind.CONFIRMATION, Kind.REMINDER_24H, Kind.REMINDER_2H):
        assert_opens(shop, appointment_message(appointment, kind))
    appointment_reschedule(appointment=appointment,
                           starts_at=local(store, days_ahead(store, 4), 15), actor=None)
    appointment.refresh_from_db()
    assert_opens(shop, appointment_message(appointment, Kind.RESCHEDULED))
    appointment_cancel(appointment=appointment, actor=None)
    appointment.refresh_from_db()
    assert_opens(shop, appointment_message(appointment, Kind.CANCELLED))
    assert set(Kind.values) == {Kind.CONFIRMATION, Kind.REMINDER_24H, Kind.REMINDER_2H,
                                Kind.RESCHEDULED, Kind.CANCELLED}  # every kind was opened


def _post_form(session: requests.Session, page: str, data: dict) -> requests.Response:
    form = session.get(page, timeout=10)
    assert form.status_code == 200, page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return session.post(page, data={"csrfmiddlewaretoken": token, **data},
                        headers={"Referer": page}, timeout=10)


def test_account_emails_link_to_pages_of_the_running_shop(shop):
    UserFactory(email="lin@example.com")
    session = requests.Session()
    answer = _post_form(session, f"{shop}/accounts/password/reset/", {"email": "lin@example.com"})
    assert answer.status_code == 200
    outbox_deliver()  # account emails leave through the outbox
    (reset,) = mail.outbox
    assert reset.subject.startswith("金缘珠宝")
    assert "127.0.0.1:8000" not in reset.body
    assert_opens(shop, reset)

    mail.outbox.clear()
    answer = _post_form(requests.Session(), f"{shop}/en/accounts/signup/", {
        "phone": "139 0000 4321", "email": "new@example.com",
        "password1": "Pearl-and-jade-2026", "password2": "Pearl-and-jade-2026"})
    assert answer.status_code == 200
    outbox_deliver()
    (confirm,) = mail.outbox
    assert "Jinyuan Jewellery" in confirm.body
    assert_opens(shop, confirm)


def test_make_run_tells_the_shop_the_port_it_serves_unless_an_address_is_given():
    assert shop_environment({}, 18820)["SHOP_BASE_URL"] == "http://127.0.0.1:18820"
    given = {"SHOP_BASE_URL": "https://shop.example.com"}
    assert shop_environment(given, 18820)["SHOP_BASE_URL"] == "https://shop.example.com"
