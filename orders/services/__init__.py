"""Every write to orders, one module per part of the sale (STYLE.md).

    lifecycle   the state table and the only writer of Order.status; place, pay,
                cancel, collect, expire, ready when a transfer arrived;
                imported history
    cart        the shopper's cart (guest and member), merge at sign-in
    payments    Stripe Checkout, the test gateway, webhooks, refunds
    pickup      the pickup desk: find by code or phone, take the counter payment, hand over
    counter     a sale rung up in a store
    tickets     after-sales service tickets

Callers import what they use from the module that defines it; the life cycle is
re-exported here because every other part builds on it.
"""

from .lifecycle import (
    COMPLETED_STATUSES,
    ORDER,
    PAID_STATUSES,
    TRANSITIONS,
    order_cancel,
    order_collect,
    order_collected,
    order_complete,
    order_create_historical,
    order_deliver,
    order_number_new,
    order_pay,
    order_pieces_expected_on,
    order_place,
    order_ship,
    order_staff_moves,
    order_transition,
    orders_expire,
    orders_ready_when_arrived,
    transfer_source_quickest,
    transition_allowed,
)

__all__ = [
    "COMPLETED_STATUSES", "ORDER", "PAID_STATUSES", "TRANSITIONS", "order_cancel",
    "order_collect", "order_collected", "order_complete", "order_create_historical",
    "order_deliver", "order_number_new", "order_pay", "order_ship", "order_staff_moves",
    "order_pieces_expected_on", "order_place", "order_transition", "orders_expire",
    "orders_ready_when_arrived", "transfer_source_quickest", "transition_allowed",
]
