"""Orders built through the real services (the invariants hold: stock reserved, prices
frozen, events written). Use these rather than creating Order rows by hand."""

import uuid

from orders.models import Fulfilment, Order
from orders.services import order_pay, order_place
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.stores.factories import StoreFactory


def pickup_order(*, store=None, variants=None, quantity=1, paid=False, pay_at_counter=False,
                 member=None, stock=None, **contact) -> Order:
    """A pickup order at ``store`` (a new store if None) for ``variants`` (one new fixed-price
    piece if None), each received into the store's stock first (``stock`` pieces, default
    ``quantity``). ``paid=True`` pays it through the test gateway's path."""
    store = store or StoreFactory()
    variants = variants or [VariantFactory()]
    for variant in variants:
        stock_receive(store=store, variant=variant, quantity=stock or quantity)
    if member is None:
        contact.setdefault("contact_name", "林小姐")
        contact.setdefault("contact_phone", "+8613800138000")
    order = order_place(lines=[(v, quantity) for v in variants], fulfilment=Fulfilment.PICKUP,
                        store=store, member=member, pay_at_counter=pay_at_counter, **contact)
    return pay(order) if paid else order


def pay(order: Order, *, reference: str | None = None) -> Order:
    return order_pay(order=order, provider="test", reference=reference or uuid.uuid4().hex,
                     amount=order.total, currency=order.currency, via="test gateway")
