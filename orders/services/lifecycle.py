"""Every write to orders. The state table below is the one place that says which moves exist.

``order_transition`` is the only code that changes an order's status: it locks the
order, checks the move against ``TRANSITIONS`` (and the fulfilment), does nothing
when the order is already there (a retried webhook, a double click), writes an
OrderEvent with who, when and from where, and applies the move's stock effect:

    cancelled, refunded  the order's reserved pieces go back on sale
    collected, shipped   the reserved pieces leave the stock (on hand and reserved)

The services above it (place, pay, cancel, collect, expire) are the ways in.
Stock is reserved when an order is placed and stays reserved, with no expiry of
its own, until the order is cancelled (by the shopper, staff or the expiry beat)
or the pieces leave with the shopper. Paying makes the sale final: the order no
longer expires, so its pieces can no longer go back on sale by themselves.

A pickup at a store that lacks some pieces gets them by one transfer (stores), from
the quickest place that has them all (``transfer_source_quickest``), requested with
the order number as its reference: the pieces are reserved at the source, then, when
the transfer is received, at the store for the order. Such a pickup stays paid until
they arrive (``orders_ready_when_arrived``, a beat), and cannot be handed over before.
Cancelling or refunding the order calls off its transfers (``transfers_release_for``).

LOCK ORDER: Order row -> (stores) Transfer rows by pk -> Reservation rows by pk ->
StockLevel rows by pk. The order's transfers are released before its reservations:
a transfer received meanwhile has then committed its reservation for the order, and
the release of the order's reservations that follows sees it.
``order_create_historical`` imports past sales (the demo's history) as found.
"""

import random
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from catalog.models import Variant
from catalog.pricing import rates_in_force, variant_price
from members.models import User
from o2o.errors import ApplicationError, ConflictError
from o2o.transitions import Lifecycle
from stores.errors import SoldOut
from stores.models import (
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    Store,
    StoreKind,
    Transfer,
    TransferStatus,
)
from stores.services import (
    ReserveLine,
    reservations_close,
    reserve_lines,
    transfer_create_locked,
    transfers_release_for,
)
from stores.services.stock import sold_out_message

from ..emails import PLACED as PLACED_EMAIL
from ..emails import email_kind_for_move, order_email_enqueue
from ..errors import OrderInvalid, OrderTransitionNotAllowed, PaymentMismatch
from ..events import order_event_record
from ..models import (
    Fulfilment,
    Order,
    OrderChannel,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
)
from ..selectors import lines_known
from ..signals import order_handed_over
from .cart import sellable
from .loyalty import order_discounts_apply, order_discounts_event_data, order_loyalty_on_move

S = OrderStatus

# The order life cycle: from each status, the statuses it may move to.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    # paid -> collected: a counter sale, handed over as it is paid.
    # Once paid, an order ends by a refund, never a plain cancel (that would put the pieces
    # back on sale and keep the money).
    S.PAID: frozenset({S.READY_FOR_PICKUP, S.COLLECTED, S.SHIPPED, S.REFUNDED,
                       S.PARTIALLY_REFUNDED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.REFUNDED}),
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


def _number_draw(day: str, choice) -> str:
    return "O" + day + "".join(choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM_CHARS))


def order_number_new(*, at: datetime | None = None, rng: random.Random | None = None) -> str:
    """A fresh order number: ``O`` + local yymmdd + 6 random base32 characters (O261123K7QX2M).

    The random part comes from ``secrets``; pass ``rng`` only to make demo data
    reproducible. Retries on the rare clash with an existing number and raises
    ConflictError if it keeps clashing. The UNIQUE constraint stays the final guard.
    """
    day = timezone.localtime(at or timezone.now()).strftime("%y%m%d")
    choice = rng.choice if rng is not None else secrets.choice
    for _attempt in range(8):
        number = _number_draw(day, choice)
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
    order_event_record(order=order, kind=OrderEventKind.IMPORTED,
                       status=status, source=source, placed_at=placed_at.isoformat())
    return order


# --- The live life cycle ---------------------------------------------------------------

# Sent after commit when a shopper has taken the pieces home (the survey: later work;
# points are earned by the move itself, loyalty.order_loyalty_on_move).
order_collected = Signal()  # kwargs: order


def _order_reservations(order: Order):
    return Reservation.objects.filter(purpose=ReservationPurpose.ORDER, reference=order.number)


# A transfer still on its way: requested (reserved at the source) or shipped.
OPEN_TRANSFER = (TransferStatus.REQUESTED, TransferStatus.SHIPPED)


def _transfers_open(order: Order):
    return Transfer.objects.filter(reference=order.number, status__in=OPEN_TRANSFER)


def order_pieces_expected_on(*, order: Order) -> date | None:
    """When the last of a pickup's pieces still on their way should reach its store (the
    latest ``expected_on`` of its open transfers); None when nothing is travelling."""
    if order.fulfilment != Fulfilment.PICKUP:
        return None
    return _transfers_open(order).aggregate(last=Max("expected_on"))["last"]


def transfer_source_quickest(*, needs: Sequence[tuple[int, int]],
                             available: dict[int, dict[int, int]], places: Iterable[Store],
                             destination: Store) -> Store | None:
    """Where a pickup's lacking pieces come from: the active place (store or warehouse)
    other than ``destination`` that has every one of ``needs`` ((variant id, quantity))
    available, the quickest first (``Store.dispatch_days``; then warehouses, then by
    code). ``available`` is ``orders.services.cart.sellable``'s answer. None: no one place
    has them all. No query: checkout and order_place both decide with it."""
    candidates = [
        place for place in places
        if place.pk != destination.pk and place.is_active
        and all(available.get(variant_id, {}).get(place.pk, 0) >= quantity
                for variant_id, quantity in needs)
    ]
    candidates.sort(key=lambda p: (p.dispatch_days, p.kind != StoreKind.WAREHOUSE, p.code))
    return candidates[0] if candidates else None


# The moves by which the pieces reach the shopper (orders.signals.order_handed_over).
HANDED_OVER = frozenset({S.COLLECTED, S.DELIVERED})

# What a move does to the order's reserved pieces, besides the status.
_STOCK_EFFECT: dict[OrderStatus, tuple[str, str]] = {
    S.CANCELLED: (ReservationStatus.RELEASED, "order cancelled"),
    S.COLLECTED: (ReservationStatus.COMMITTED, "order collected"),
    S.SHIPPED: (ReservationStatus.COMMITTED, "order shipped"),
    # Refunded before the hand-over: the pieces go back on sale. After it there is
    # nothing reserved any more (a return restocks through its service ticket).
    S.REFUNDED: (ReservationStatus.RELEASED, "order refunded"),
}


def _refused(order: Order, to) -> OrderTransitionNotAllowed:
    return OrderTransitionNotAllowed(
        _("Order %(number)s is %(status)s; it cannot become %(to)s.") % {
            "number": order.number, "status": order.get_status_display(), "to": S(to).label},
        extra={"status": order.status, "to": str(to)})


# The order's life cycle (o2o.transitions): the table, and the statuses each way of
# handing the pieces over never takes.
ORDER = Lifecycle(model=Order, table=TRANSITIONS, refused=_refused,
                  also=lambda order, to: to not in _NOT_FOR_FULFILMENT[order.fulfilment])


def transition_allowed(*, status: str, fulfilment: str, to: str) -> bool:
    return ORDER.allows(S(status), to) and to not in _NOT_FOR_FULFILMENT[fulfilment]


def _locked(order: Order) -> Order:
    return ORDER.lock(order)


def _move(locked: Order, to: OrderStatus, *, actor: User | None, via: str, now: datetime,
          data: dict | None = None) -> bool:
    """Move a locked order to ``to`` with the move's effects; False when it is already
    there. Coupon and points first, then the stock: the lock order is order -> coupon ->
    profile -> stock."""
    if locked.status == to:
        return False
    ORDER.check(locked, to)
    previous = locked.status
    order_loyalty_on_move(order=locked, previous=previous, to=to, actor=actor, now=now)
    if to in _STOCK_EFFECT:
        status, reason = _STOCK_EFFECT[to]
        if status == ReservationStatus.RELEASED:
            # The pieces on their way are no longer wanted: first (the lock order), so a
            # transfer received meanwhile has reserved for the order before we release.
            transfers_release_for(reference=locked.number, actor=actor, reason=reason)
        reservations_close(_order_reservations(locked), status=status, reason=reason, now=now)
    fields: dict = {}
    if to == S.PAID:
        fields = {"paid_at": now, "expires_at": None}
    elif to == S.COMPLETED:
        fields = {"completed_at": now}
    ORDER.move(locked, to, fields=fields, audit=lambda previous: order_event_record(
        order=locked, kind=OrderEventKind.STATUS, actor=actor, at=now,
        **{"from": previous, "to": str(to), "via": via, **(data or {})}))
    _enqueue_email(locked, email_kind_for_move(order=locked, to=to))
    if to in HANDED_OVER:
        order_handed_over.send(sender=Order, order=locked, at=now)
    return True


def _enqueue_email(order: Order, kind: str | None) -> None:
    """The shopper's email about this move: an outbox row in the move's transaction
    (orders.emails)."""
    if kind:
        order_email_enqueue(order=order, kind=kind)


@transaction.atomic
def order_transition(*, order: Order, to: str, actor: User | None = None, via: str = "",
                     data: dict | None = None, now: datetime | None = None) -> Order:
    """Move ``order`` to ``to`` (validated, idempotent, audited, with its stock effect).

    ``via`` says from where (admin, webhook, pickup desk, expiry...). Raises
    OrderTransitionNotAllowed (409) for a move the table does not allow.
    """
    locked = _locked(order)
    _move(locked, S(to), actor=actor, via=via, now=now or timezone.now(), data=data)
    return locked


PICKUP_CODE_DIGITS = 8


def _number_and_pickup_code(*, at: datetime, store: Store | None) -> tuple[str, str]:
    """A fresh order number and (for a pickup at ``store``) a fresh pickup code of 8
    random digits, unique among the store's orders, both checked in one query; a clash,
    rare as it is, draws again (the UNIQUE constraints stay the last word). A code opens
    an order only at its own store, and lookups are rate limited, so 10^8 codes per
    store are far beyond guessing."""
    day = timezone.localtime(at).strftime("%y%m%d")
    for _attempt in range(8):
        number = _number_draw(day, secrets.choice)
        code = (f"{secrets.randbelow(10 ** PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"
                if store is not None else "")
        # In SQL: it runs in every checkout, and the ORM's building of it cost more CPU
        # than the rest of the drawing.
        sql = f"SELECT 1 FROM {Order._meta.db_table} WHERE number = %s"
        params: list[object] = [number]
        if code:
            sql += " OR (store_id = %s AND pickup_code = %s)"
            params += [store.pk, code]
        with connection.cursor() as cursor:
            cursor.execute(sql + " LIMIT 1", params)
            if cursor.fetchone() is None:
                return number, code
    raise ConflictError(_("Could not find a free order number; please try again."),
                        code="order_number_exhausted")


def _wanted(lines: Sequence[tuple[Variant, int]]) -> list[tuple[Variant, int]]:
    """The same piece twice is one line; every quantity a positive whole number."""
    merged: dict[int, list] = {}
    for variant, quantity in lines:
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise OrderInvalid(_("Give a quantity of at least one piece."),
                               code="quantity_not_positive")
        if variant.pk in merged:
            merged[variant.pk][1] += quantity
        else:
            merged[variant.pk] = [variant, quantity]
    if not merged:
        raise OrderInvalid(_("An order needs at least one piece."), code="no_lines")
    return [(variant, quantity) for variant, quantity in merged.values()]


def _pickup_transfer_plan(*, store: Store, wanted: list[tuple[Variant, int]],
                          available: dict[int, dict[int, int]] | None = None,
                          ) -> tuple[list[tuple[Variant, int]], Store | None]:
    """The lines ``store`` lacks now and the quickest place that can send them all
    (no lines, None when it has everything). SoldOut when a piece is to be had nowhere,
    OrderInvalid store_lacks_pieces when no one place has them all. Reads availability
    unlocked: the reservations decide (SoldOut)."""
    if available is None:
        available = sellable(variant.pk for variant, _quantity in wanted)
    lacking = [(variant, quantity) for variant, quantity in wanted
               if available.get(variant.pk, {}).get(store.pk, 0) < quantity]
    if not lacking:
        return [], None
    place_ids = {place_id for variant, _q in lacking for place_id in available.get(variant.pk, {})}
    source = transfer_source_quickest(
        needs=[(variant.pk, quantity) for variant, quantity in lacking], available=available,
        places=Store.objects.filter(pk__in=place_ids, is_active=True), destination=store)
    if source is None:
        for variant, quantity in lacking:
            if not any(n >= quantity for place_id, n in available.get(variant.pk, {}).items()
                       if place_id != store.pk):
                # Nowhere to be had: the answer reserving it would have given.
                raise SoldOut(sold_out_message(variant, store),
                              extra={"sku": variant.sku, "store": store.code})
        raise OrderInvalid(
            _("%(store)s cannot get every piece: no one place has them all. Choose another "
              "store, or delivery.") % {"store": store.title},
            code="store_lacks_pieces", extra={"skus": [v.sku for v, _q in lacking]})
    return lacking, source


def order_place_locked(
    *,
    lines: Sequence[tuple[Variant, int]],
    fulfilment: str,
    store: Store | None = None,
    stock_from: Store | None = None,
    member: User | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    language: str | None = None,
    pay_at_counter: bool = False,
    coupon_code: str = "",
    points: int = 0,
    actor: User | None = None,
    via: str = "checkout",
    available: dict[int, dict[int, int]] | None = None,
    rates: dict | None = None,
) -> Order:
    """An online order awaiting payment, with its pieces reserved: all of it or nothing.

    Runs in the caller's transaction (``order_place`` gives it one; ``checkout_place``
    calls it inside its own, so no savepoint: a refusal rolls the whole checkout back,
    as it must anyway). The order comes back with its lines and store known (``lines``
    prefetched from what was written), so an answer needs no second look.

    ``available`` (``cart.sellable``'s answer) and ``rates`` (``rates_in_force``'s) may
    come from the caller, read in the same transaction a moment before: two queries
    fewer. The reservations decide what can be had whatever they said (SoldOut).

    Pickup orders get a pickup code and reserve at the pickup ``store`` the pieces
    available there; the lines it lacks are requested by one transfer (stores'
    transfer_create_locked, reference = the order number) from the quickest place that
    has them all, which reserves them at that place; the order's and the transfer's
    reservations are made in one pass over the stock rows in pk order. Delivery orders
    reserve at ``stock_from`` (a warehouse or a store). Prices come from
    ``catalog.pricing.variant_price`` now and are frozen on the lines. Unpaid, the
    order is cancelled at ``expires_at``: ORDER_PAYMENT_MINUTES after placing, or
    PAY_AT_COUNTER_DAYS for a pickup paid at the counter (counted from the transfer's
    expected arrival when pieces come by transfer).

    ``coupon_code`` and ``points`` are redeemed on the order (loyalty.order_discounts_apply:
    CouponNotApplicable with the reason, PointsInvalid, PointsInsufficient).

    Raises SoldOut (409) naming the piece when any line cannot be reserved,
    PriceUnavailable when a piece has no price today, OrderInvalid otherwise (code
    store_lacks_pieces when no one place can send a pickup store what it lacks).
    """
    now = timezone.now()
    wanted = _wanted(lines)
    if fulfilment == Fulfilment.PICKUP:
        if store is None or store.kind != StoreKind.STORE or not store.is_active:
            raise OrderInvalid(_("Choose one of our stores for the pickup."),
                               code="store_required")
        stock_from = store
    elif fulfilment == Fulfilment.DELIVERY:
        if stock_from is None or not stock_from.is_active:
            raise OrderInvalid(_("Say where a delivered order is sent from."),
                               code="source_required")
        if pay_at_counter:
            raise OrderInvalid(_("Only a pickup can be paid at the counter."),
                               code="pay_at_counter_needs_pickup")
        store = None
    else:
        raise OrderInvalid(_("Choose delivery or pickup in a store."), code="invalid_fulfilment")
    if member is not None:
        contact_name = contact_name or member.name or member.email or str(member.phone or "")
        contact_phone = contact_phone or str(member.phone or "")
        contact_email = contact_email or member.email or ""
    if not contact_name.strip() or not (contact_phone.strip() or contact_email.strip()):
        raise OrderInvalid(_("Give a name and a mobile number or email, so we can reach you."),
                           code="contact_required")
    for variant, _quantity in wanted:
        if not (variant.is_active and variant.product.is_active):
            raise OrderInvalid(_("%(piece)s is no longer sold.") % {"piece": variant.sku},
                               code="variant_inactive", extra={"sku": variant.sku})

    by_transfer, source, expected_on = [], None, None
    if fulfilment == Fulfilment.PICKUP:
        by_transfer, source = _pickup_transfer_plan(store=store, wanted=wanted,
                                                    available=available)
    rates = rates_in_force(now) if rates is None else rates
    priced = [(variant, quantity, variant_price(variant=variant, at=now, rates=rates).amount)
              for variant, quantity in wanted]
    subtotal = sum((unit * quantity for _v, quantity, unit in priced), Decimal("0.00"))
    hold_from = now
    if source is not None:
        today = now.astimezone(store.zone).date()
        expected_on = today + timedelta(days=source.dispatch_days)
        hold_from = now + (expected_on - today)  # the expected arrival, at this time of day
    hold = (timedelta(days=settings.PAY_AT_COUNTER_DAYS) if pay_at_counter
            else timedelta(minutes=settings.ORDER_PAYMENT_MINUTES))
    number, pickup_code = _number_and_pickup_code(at=now, store=store)
    order = Order.objects.create(
        number=number, channel=OrderChannel.ONLINE, fulfilment=fulfilment,
        member=member, store=store, contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(), contact_email=contact_email.strip(),
        language=language or get_language() or settings.LANGUAGE_CODE,
        currency=settings.CURRENCY, subtotal=subtotal, discount=Decimal("0.00"), total=subtotal,
        pickup_code=pickup_code,
        placed_at=now, expires_at=(hold_from if pay_at_counter else now) + hold,
        pay_at_counter=pay_at_counter,
    )
    written = OrderLine.objects.bulk_create([
        OrderLine(order=order, variant=variant, product_name=variant.product.name,
                  sku=variant.sku, quantity=quantity, unit_price=unit, line_total=unit * quantity)
        for variant, quantity, unit in priced
    ])
    lines_known(order, written)
    order_discounts_apply(order=order, lines=[(v, unit * q) for v, q, unit in priced],
                          member=member, coupon_code=coupon_code, points=points,
                          actor=actor or member, now=now)
    # No expiry on the reservations: the order's own expiry releases them, so a payment
    # that arrives in time always finds its pieces.
    travelling = {variant.pk for variant, _quantity in by_transfer}
    holds = [ReserveLine(stock_from, variant, quantity, ReservationPurpose.ORDER,
                         order.number, None)
             for variant, quantity, _unit in priced if variant.pk not in travelling]
    transfers = []
    if source is not None:
        transfer, source_holds = transfer_create_locked(
            source=source, destination=store, lines=by_transfer, actor=None,
            reference=order.number, expected_on=expected_on, now=now, reserve=False,
            note=_("For pickup order %(number)s") % {"number": order.number})
        transfers.append(transfer.number)
        holds += source_holds
    reserve_lines(holds, now=now)  # one pass, stock rows in pk order; SoldOut: nothing kept
    data = {"via": via, "pay_at_counter": pay_at_counter, "stock_from": stock_from.code,
            **order_discounts_event_data(order)}
    if transfers:
        data.update(transfers=transfers, transfer_from=source.code,
                    expected_on=expected_on.isoformat())
    order_event_record(order=order, kind=OrderEventKind.PLACED, actor=actor or member, at=now,
                       **data)
    _enqueue_email(order, PLACED_EMAIL)
    return order


# ``order_place_locked`` in a transaction of its own: what every other caller uses.
order_place = transaction.atomic(order_place_locked)


@transaction.atomic
def order_pay(*, order: Order, provider: str, reference: str, amount: Decimal, currency: str,
              actor: User | None = None, via: str = "") -> Order:
    """Record the money for an order awaiting payment, exactly once.

    A notice already recorded (same provider and reference) changes nothing, so a
    replayed webhook is harmless. The amount and currency must be the order's
    (PaymentMismatch otherwise, nothing written). A pickup whose pieces wait at
    the store becomes ready for pickup at once; one with pieces still on their way
    (an open transfer) stays paid until orders_ready_when_arrived moves it. Raises OrderTransitionNotAllowed
    for an order that is no longer awaiting payment (cancelled after its time ran
    out, say): the caller refunds that money.
    """
    if provider not in PaymentProvider.values:
        raise ApplicationError(_("Unknown payment provider."), code="invalid_provider")
    locked = _locked(order)
    if reference and Payment.objects.filter(order=locked, provider=provider, reference=reference,
                                            status=PaymentStatus.SUCCEEDED).exists():
        return locked
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        amount = None
    if amount != locked.total or str(currency).upper() != locked.currency:
        raise PaymentMismatch(
            _("The payment (%(amount)s %(currency)s) does not match order %(number)s "
              "(%(total)s %(order_currency)s).") % {
                "amount": amount, "currency": str(currency).upper(), "number": locked.number,
                "total": locked.total, "order_currency": locked.currency})
    now = timezone.now()
    if locked.status != S.PENDING_PAYMENT:
        raise OrderTransitionNotAllowed(
            _("Order %(number)s is %(status)s and takes no payment.") % {
                "number": locked.number, "status": locked.get_status_display()},
            extra={"status": locked.status})
    Payment.objects.create(order=locked, provider=provider, reference=reference,
                           amount=amount, currency=locked.currency,
                           status=PaymentStatus.SUCCEEDED)
    _move(locked, S.PAID, actor=actor, via=via, now=now,
          data={"provider": provider, "reference": reference})
    if locked.fulfilment == Fulfilment.PICKUP and not _transfers_open(locked).exists():
        _move(locked, S.READY_FOR_PICKUP, actor=actor, via=via, now=now)
    return locked


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None = None, via: str = "",
                 reason: str = "") -> Order:
    """Cancel an order awaiting payment; its pieces go back on sale. Idempotent.

    A paid order is not cancelled here: it is refunded (after-sales)."""
    locked = _locked(order)
    if locked.status not in (S.PENDING_PAYMENT, S.CANCELLED):
        raise OrderTransitionNotAllowed(
            _("Order %(number)s is already paid; ask for a refund instead.") % {
                "number": locked.number}, extra={"status": locked.status})
    _move(locked, S.CANCELLED, actor=actor, via=via, now=timezone.now(),
          data={"reason": reason} if reason else None)
    return locked


@transaction.atomic
def order_collect(*, order: Order, store: Store, actor: User) -> Order:
    """The pickup desk hands the pieces over: they leave the store's stock and the order
    is completed. Only at the order's own pickup store; a second confirmation changes
    nothing. ``order_collected`` is sent after commit (points, survey). Refused
    (pieces_on_the_way) while a transfer for the order is still open."""
    locked = _locked(order)
    if locked.fulfilment != Fulfilment.PICKUP or locked.store_id != store.pk:
        raise OrderInvalid(_("No pickup with this code at this store."), code="not_this_store")
    if locked.status in (S.COLLECTED, S.COMPLETED):
        return locked
    if locked.status == S.PENDING_PAYMENT:
        raise OrderTransitionNotAllowed(
            _("Order %(number)s is not paid yet: take the payment first.") % {
                "number": locked.number}, code="payment_first")
    if _transfers_open(locked).exists():
        raise OrderTransitionNotAllowed(
            _("Some pieces of order %(number)s are still on their way to the store; hand "
              "it over once they have arrived.") % {"number": locked.number},
            code="pieces_on_the_way")
    now = timezone.now()
    _move(locked, S.COLLECTED, actor=actor, via="pickup desk", now=now)
    _move(locked, S.COMPLETED, actor=actor, via="pickup desk", now=now)
    transaction.on_commit(lambda: order_collected.send(sender=Order, order=locked))
    return locked


def _delivery_move(order: Order, to: OrderStatus, *, actor: User | None, via: str,
                   data: dict | None = None) -> Order:
    locked = _locked(order)
    if locked.fulfilment != Fulfilment.DELIVERY:
        raise OrderInvalid(_("Order %(number)s is not a delivery.") % {"number": locked.number},
                           code="not_a_delivery")
    _move(locked, to, actor=actor, via=via, now=timezone.now(), data=data)
    return locked


@transaction.atomic
def order_ship(*, order: Order, actor: User | None, carrier: str = "", tracking: str = "",
               via: str = "admin") -> Order:
    """A paid delivery leaves: paid -> shipped, and its pieces leave the stock they were
    reserved in. ``carrier`` and ``tracking`` go into the audit row and the shopper's
    email. Idempotent; OrderInvalid (not_a_delivery) for a pickup or counter sale,
    OrderTransitionNotAllowed for an order that is not paid."""
    data = {key: value.strip()[:60] for key, value in
            (("carrier", carrier), ("tracking", tracking)) if value and value.strip()}
    return _delivery_move(order, S.SHIPPED, actor=actor, via=via, data=data)


@transaction.atomic
def order_deliver(*, order: Order, actor: User | None, via: str = "admin") -> Order:
    """The carrier handed a shipped delivery over: shipped -> delivered (points are earned
    on this move). Idempotent."""
    return _delivery_move(order, S.DELIVERED, actor=actor, via=via)


@transaction.atomic
def order_complete(*, order: Order, actor: User | None, via: str = "admin") -> Order:
    """Close a delivered order: delivered -> completed (a pickup completes at the
    hand-over, order_collect). Idempotent."""
    return _delivery_move(order, S.COMPLETED, actor=actor, via=via)


# Moves staff make by hand on an order's page; the desk, the counter and the payment
# provider make the others through their own services.
_BY_HAND = {Fulfilment.DELIVERY: (S.SHIPPED, S.DELIVERED, S.COMPLETED)}


def order_staff_moves(*, order: Order) -> list[OrderStatus]:
    """The statuses staff may move ``order`` to by hand now: cancel while unpaid; ship,
    deliver and complete a delivery (read only: the services check again under lock)."""
    moves = [S.CANCELLED] if order.status == S.PENDING_PAYMENT else []
    return moves + [to for to in _BY_HAND.get(order.fulfilment, ())
                    if ORDER.allows(S(order.status), to, order)]


def orders_expire(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Beat: cancel orders left unpaid past ``expires_at``; their pieces go back on sale.
    Safe to run twice or in parallel (locked rows are skipped). Returns how many."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            due = list(Order.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(status=S.PENDING_PAYMENT, expires_at__lte=now)
                       .order_by("pk")[:batch_size])
            for locked in due:
                _move(locked, S.CANCELLED, actor=None, via="expiry", now=now,
                      data={"reason": "unpaid"})
        done += len(due)
        if len(due) < batch_size:
            return done


def orders_ready_when_arrived(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Beat: paid pickups whose transfers have all been received (at least one, none
    open) become ready for pickup through order_transition (via "transfer received").
    Walks by id, one short transaction per batch; locked orders are skipped and picked
    up by the next run; each is re-checked under its lock. Idempotent. Returns how many."""
    now = now or timezone.now()
    number = OuterRef("number")
    arrived = Transfer.objects.filter(reference=number, status=TransferStatus.RECEIVED)
    on_the_way = Transfer.objects.filter(reference=number, status__in=OPEN_TRANSFER)
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            due = list(Order.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(status=S.PAID, fulfilment=Fulfilment.PICKUP, pk__gt=last_id)
                       .filter(Exists(arrived)).exclude(Exists(on_the_way))
                       .order_by("pk")[:batch_size])
            for locked in due:
                if _transfers_open(locked).exists():
                    continue
                order_transition(order=locked, to=S.READY_FOR_PICKUP, via="transfer received",
                                 now=now)
                done += 1
        if len(due) < batch_size:
            return done
        last_id = due[-1].pk
