"""Every write to orders. The state table below is the one place that says which moves exist.

Live transitions (checkout, payment, pickup, cancel, refund), one service each,
arrive with the checkout work; each will lock the order, check its move against
``TRANSITIONS`` and write an OrderEvent. Until then the only writer is
``order_create_historical``, which imports past sales (the demo's history).
"""

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Variant
from catalog.pricing import rates_in_force, variant_price
from members.models import User
from o2o.errors import ApplicationError, ConflictError
from stores.models import Store, StoreKind

from .models import (
    Fulfilment,
    Order,
    OrderChannel,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
)

S = OrderStatus

# The order life cycle: from each status, the statuses it may move to.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.READY_FOR_PICKUP, S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED,
                       S.CANCELLED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.REFUNDED, S.CANCELLED}),
    S.COLLECTED: frozenset({S.COMPLETED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Statuses an order holds only once the money has arrived.
PAID_STATUSES = frozenset(TRANSITIONS) - {S.PENDING_PAYMENT, S.CANCELLED}
# Statuses of a sale that reached its customer (a refund here is an after-sales return).
COMPLETED_STATUSES = frozenset({S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED})
# Statuses that only exist on one way of handing the piece over.
_NOT_FOR_FULFILMENT: dict[str, frozenset[OrderStatus]] = {
    Fulfilment.DELIVERY: frozenset({S.READY_FOR_PICKUP, S.COLLECTED}),
    Fulfilment.PICKUP: frozenset({S.SHIPPED, S.DELIVERED}),
    Fulfilment.COUNTER: frozenset({S.SHIPPED, S.DELIVERED, S.READY_FOR_PICKUP}),
}
# How long after the order a past sale reached its customer, by fulfilment.
_HANDOVER_AFTER: dict[str, timedelta] = {
    Fulfilment.COUNTER: timedelta(0),
    Fulfilment.PICKUP: timedelta(days=2),
    Fulfilment.DELIVERY: timedelta(days=4),
}

# Crockford's base32: no I, L, O or U, so a number read out at the counter is unambiguous.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM_CHARS = 6


def order_number_new(*, at: datetime | None = None, rng: random.Random | None = None) -> str:
    """A fresh order number: ``O`` + local yymmdd + 6 random base32 characters (O261123K7QX2M).

    The random part comes from ``secrets``; pass ``rng`` only to make demo data
    reproducible. Retries on the rare clash with an existing number and raises
    ConflictError if it keeps clashing. The UNIQUE constraint stays the final guard.
    """
    day = timezone.localtime(at or timezone.now()).strftime("%y%m%d")
    choice = rng.choice if rng is not None else secrets.choice
    for _attempt in range(8):
        number = "O" + day + "".join(choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM_CHARS))
        if not Order.objects.filter(number=number).exists():
            return number
    raise ConflictError(_("Could not find a free order number; please try again."),
                        code="order_number_exhausted")


def _historical_check(*, channel: str, fulfilment: str, status: str, store: Store | None,
                      lines: Sequence[tuple[Variant, int]], placed_at: datetime,
                      payment_provider: str) -> None:
    if channel not in OrderChannel.values or fulfilment not in Fulfilment.values:
        raise ApplicationError(_("Unknown sales channel or fulfilment."), code="invalid_channel")
    if status not in OrderStatus.values:
        raise ApplicationError(_("Unknown order status."), code="invalid_status")
    if payment_provider not in PaymentProvider.values:
        raise ApplicationError(_("Unknown payment provider."), code="invalid_provider")
    if fulfilment == Fulfilment.COUNTER and channel != OrderChannel.STORE:
        raise ApplicationError(_("A counter sale belongs to the store channel."),
                               code="invalid_channel")
    if fulfilment in (Fulfilment.PICKUP, Fulfilment.COUNTER) and (
            store is None or store.kind != StoreKind.STORE):
        raise ApplicationError(_("A pickup or counter order needs a store (not a warehouse)."),
                               code="store_required")
    if status in _NOT_FOR_FULFILMENT[fulfilment]:
        raise ApplicationError(
            _("An order with this fulfilment cannot have this status."), code="invalid_status",
            extra={"fulfilment": fulfilment, "status": status},
        )
    if not lines or any(quantity <= 0 for _variant, quantity in lines):
        raise ApplicationError(_("An order needs at least one piece."), code="no_lines")
    if timezone.is_naive(placed_at) or placed_at > timezone.now():
        raise ApplicationError(_("A past order needs an aware time that is not in the future."),
                               code="invalid_placed_at")


@transaction.atomic
def order_create_historical(
    *,
    channel: str,
    fulfilment: str,
    status: str,
    member: User | None,
    store: Store | None,
    staff: User | None,
    lines: list[tuple[Variant, int]],
    placed_at: datetime,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    payment_provider: str,
    number: str | None = None,
    source: str = "import",
) -> Order:
    """Record a sale that already happened (imported history, the demo), in one transaction.

    Guarantees: every line's unit price is ``catalog.pricing.variant_price`` at
    ``placed_at`` (by-weight pieces at the metal rate in force then, so a rate
    must exist) and is frozen on the line; subtotal = sum of lines, no discount,
    total = subtotal. ``paid_at`` is set for every status past payment (to
    ``placed_at``) and ``completed_at`` for completed sales and their refunds
    (treated as after-sales returns), the handover delay of the fulfilment
    after ``placed_at``. Statuses past payment get one Payment of the total, in
    status succeeded (refunded for a fully refunded order). Cancelled orders
    are taken as never paid. One OrderEvent "imported" records the import.

    Moves no stock and runs no transition: the status is written as found.
    Raises ApplicationError on an inconsistent order (a counter sale without a
    store, a pickup that was shipped, no lines...) or PriceUnavailable.
    """
    _historical_check(channel=channel, fulfilment=fulfilment, status=status, store=store,
                      lines=lines, placed_at=placed_at, payment_provider=payment_provider)

    rates = rates_in_force(placed_at)
    priced = []
    for variant, quantity in lines:
        unit_price = variant_price(variant=variant, at=placed_at, rates=rates).amount
        priced.append((variant, quantity, unit_price))
    subtotal = sum((unit * qty for _v, qty, unit in priced), Decimal("0.00"))

    paid_at = placed_at if status in PAID_STATUSES else None
    completed_at = None
    if status in COMPLETED_STATUSES:
        completed_at = min(placed_at + _HANDOVER_AFTER[fulfilment], timezone.now())

    order = Order.objects.create(
        number=number or order_number_new(at=placed_at),
        channel=channel,
        fulfilment=fulfilment,
        status=status,
        member=member,
        store=store,
        staff=staff,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        currency=settings.CURRENCY,
        subtotal=subtotal,
        discount=Decimal("0.00"),
        total=subtotal,
        placed_at=placed_at,
        paid_at=paid_at,
        completed_at=completed_at,
    )
    OrderLine.objects.bulk_create([
        OrderLine(order=order, variant=variant, product_name=variant.product.name,
                  sku=variant.sku, quantity=quantity, unit_price=unit_price,
                  line_total=unit_price * quantity)
        for variant, quantity, unit_price in priced
    ])
    if paid_at is not None:
        Payment.objects.create(
            order=order,
            provider=payment_provider,
            reference=f"HIST-{order.number}",
            amount=order.total,
            currency=order.currency,
            status=PaymentStatus.REFUNDED if status == S.REFUNDED else PaymentStatus.SUCCEEDED,
        )
    OrderEvent.objects.create(
        order=order, kind="imported", actor=None, at=timezone.now(),
        data={"status": status, "source": source, "placed_at": placed_at.isoformat()},
    )
    return order
