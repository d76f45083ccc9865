"""A sale rung up at a store's counter: the same Order, pricing and life cycle as online.

``order_sell_at_counter`` is one transaction: the order (channel store, fulfilment
counter) with prices frozen from catalog.pricing, the pieces reserved at this store
(a conditional UPDATE per stock row: two clerks selling the last piece cannot both
win), the counter payment, then paid -> collected (the pieces leave the stock) ->
completed through the life cycle's transition code, every step an OrderEvent with the
clerk as actor. ``order_collected`` is sent after commit.

LOCK ORDER: as orders.services.lifecycle (Order row -> Reservation rows -> StockLevel rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Variant
from catalog.pricing import rates_in_force, variant_price
from members.models import User
from members.services import member_register
from o2o.errors import ConflictError
from o2o.money import money
from stores.models import ReservationPurpose, Store, StoreKind
from stores.selectors import available_at
from stores.services import ReserveLine, appointment_holds_hand_over, reserve_lines
from stores.services.permissions import ensure_may_act

from ..errors import OrderInvalid
from ..events import order_event_record
from ..models import Fulfilment, Order, OrderChannel, OrderEventKind, OrderLine, OrderStatus
from .lifecycle import _wanted, order_collected, order_number_new, order_pay, order_transition
from .loyalty import order_discounts_apply, order_discounts_event_data
from .pickup import counter_payment_check

S = OrderStatus
MAX_COUNTER_LINES = 50
MAX_QUANTITY = 99


class PricesMoved(ConflictError):
    code = "prices_moved"


class UnknownPiece(OrderInvalid):
    code = "unknown_sku"


@dataclass
class CounterLine:
    """A piece on the counter: what was typed, the variant, the price now, what is left."""

    variant: Variant
    quantity: int
    unit_price: Decimal
    available: int

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


def _counter_store(*, store: Store, staff: User) -> None:
    ensure_may_act(actor=staff, store=store)
    if store.kind != StoreKind.STORE or not store.is_active:
        raise OrderInvalid(_("A counter sale is rung up in an open store, not a warehouse."),
                           code="not_a_store")


def counter_lines_parse(text: str) -> list[tuple[str, int]]:
    """One piece per line, as a scanner types it: ``SKU`` or ``SKU x2`` / ``SKU*2`` /
    ``SKU 2``. Blank lines are skipped. Raises OrderInvalid for a bad quantity."""
    wanted: list[tuple[str, int]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        match = re.fullmatch(r"(\S+?)(?:\s*[x×*]\s*|\s+)(\d{1,3})", line, flags=re.IGNORECASE)
        code, quantity = (match.group(1), int(match.group(2))) if match else (line, 1)
        if " " in code:
            raise UnknownPiece(_("“%(text)s” is not a SKU or barcode.") % {"text": line[:40]},
                               extra={"sku": line[:40]})
        if not 1 <= quantity <= MAX_QUANTITY:
            raise OrderInvalid(_("Give a quantity between 1 and %(max)s for %(sku)s.") % {
                "max": MAX_QUANTITY, "sku": code[:40]}, code="quantity_not_positive")
        wanted.append((code[:40], quantity))
    if not wanted:
        raise OrderInvalid(_("Scan or type at least one SKU."), code="no_lines")
    if len(wanted) > MAX_COUNTER_LINES:
        raise OrderInvalid(_("Too many lines for one sale."), code="too_many_lines")
    return wanted


def counter_lines_resolve(*, store: Store, staff: User, text: str) -> list[CounterLine]:
    """The typed lines as pieces of this store with their price now and what is left here.

    The same piece twice is one line. Raises UnknownPiece naming the text, OrderInvalid
    for a piece no longer sold, PriceUnavailable for a piece with no price today.
    """
    _counter_store(store=store, staff=staff)
    parsed = counter_lines_parse(text)
    codes = {code for code, _q in parsed}
    found = list(Variant.objects.select_related("product")
                 .filter(Q(sku__in=codes) | Q(barcode__in=codes)))
    by_code: dict[str, Variant] = {}
    for variant in found:
        if variant.barcode:
            by_code.setdefault(variant.barcode, variant)
    for variant in found:
        by_code[variant.sku] = variant  # a SKU wins over someone else's barcode
    lines: list[tuple[Variant, int]] = []
    for code, quantity in parsed:
        variant = by_code.get(code)
        if variant is None:
            raise UnknownPiece(_("No piece with SKU or barcode “%(sku)s”.") % {"sku": code},
                               extra={"sku": code})
        if not (variant.is_active and variant.product.is_active):
            raise OrderInvalid(_("%(piece)s is no longer sold.") % {"piece": variant.sku},
                               code="variant_inactive", extra={"sku": variant.sku})
        lines.append((variant, quantity))
    merged = _wanted(lines)
    levels = available_at(store=store, variant_ids=[v.pk for v, _q in merged])
    now = timezone.now()
    rates = rates_in_force(now)
    return [CounterLine(variant=v, quantity=q,
                        unit_price=variant_price(variant=v, at=now, rates=rates).amount,
                        available=max(levels.get(v.pk, 0), 0))
            for v, q in merged]


@transaction.atomic
def order_sell_at_counter(
    *,
    store: Store,
    staff: User,
    lines: list[tuple[Variant, int]],
    member: User | None = None,
    register_phone: str = "",
    payment_provider: str,
    payment_reference: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    coupon_code: str = "",
    points: int = 0,
    total_seen: Decimal | None = None,
) -> Order:
    """Ring up a sale at ``store``'s counter, paid and handed over: all of it or nothing.

    Raises NotYourStore (403) for a clerk of another store, SoldOut (409) naming the
    piece when this store has too few, PickupRefused for a missing terminal reference
    or an unknown method, PriceUnavailable, OrderInvalid. ``coupon_code`` (a printed
    code, the member's wallet coupon) and ``points`` go through loyalty (the reason
    when one does not apply). ``total_seen``: the total the clerk told the shopper;
    a different total now is refused (PricesMoved 409), nothing written. Sends
    order_collected after commit.

    ``register_phone`` (with no ``member``): the shopper's mobile number; the member with
    it buys, registered now at ``store`` with ``contact_name`` if there is none
    (members.services.member_register), in the sale's transaction: a refused sale
    registers no one.
    """
    _counter_store(store=store, staff=staff)
    reference = counter_payment_check(provider=payment_provider, reference=payment_reference)
    if member is None and register_phone:
        member, _created = member_register(phone=register_phone, name=contact_name,
                                           store=store, actor=staff)
        contact_name = ""
    wanted = _wanted(lines)
    for variant, _quantity in wanted:
        if not (variant.is_active and variant.product.is_active):
            raise OrderInvalid(_("%(piece)s is no longer sold.") % {"piece": variant.sku},
                               code="variant_inactive", extra={"sku": variant.sku})
    if member is not None:
        contact_name = contact_name or member.name or ""
        contact_phone = contact_phone or str(member.phone or "")

    now = timezone.now()
    rates = rates_in_force(now)
    priced = [(variant, quantity, variant_price(variant=variant, at=now, rates=rates).amount)
              for variant, quantity in wanted]
    subtotal = sum((unit * quantity for _v, quantity, unit in priced), Decimal("0.00"))
    order = Order.objects.create(
        number=order_number_new(at=now), channel=OrderChannel.STORE,
        fulfilment=Fulfilment.COUNTER, member=member, store=store, staff=staff,
        contact_name=contact_name.strip()[:100], contact_phone=contact_phone.strip()[:20],
        contact_email=(member.email or "") if member is not None else "",
        language=(member.language if member is not None else settings.LANGUAGE_CODE),
        currency=settings.CURRENCY, subtotal=subtotal, discount=Decimal("0.00"), total=subtotal,
        placed_at=now, expires_at=None,
    )
    OrderLine.objects.bulk_create([
        OrderLine(order=order, variant=variant, product_name=variant.product.name,
                  sku=variant.sku, quantity=quantity, unit_price=unit, line_total=unit * quantity)
        for variant, quantity, unit in priced
    ])
    order_discounts_apply(order=order, lines=[(v, unit * q) for v, q, unit in priced],
                          member=member, coupon_code=coupon_code, points=points, store=store,
                          actor=staff, now=now)
    if total_seen is not None and order.total != total_seen:
        raise PricesMoved(_("The prices changed since you checked them: the total is now "
                            "%(total)s, not %(seen)s. Check the total again, then take the "
                            "payment.") % {
                                "total": money(order.total), "seen": money(total_seen)},
                          extra={"total": str(order.total)})
    # What a try-on of this shopper kept for this sale is handed over, then reserved anew.
    appointment_holds_hand_over(store=store, variant_ids=[v.pk for v, _q, _u in priced],
                                member=member, phone=order.contact_phone,
                                order_number=order.number, now=now)
    reserve_lines([ReserveLine(store, variant, quantity, ReservationPurpose.ORDER, order.number,
                               None) for variant, quantity, _unit in priced], now=now)
    order_event_record(order=order, kind=OrderEventKind.PLACED, actor=staff, at=now,
                       via="counter", stock_from=store.code, **order_discounts_event_data(order))
    locked = order_pay(order=order, provider=payment_provider, reference=reference,
                       amount=order.total, currency=order.currency, actor=staff, via="counter")
    # paid -> collected commits the reservations: the pieces leave on_hand and reserved.
    locked = order_transition(order=locked, to=S.COLLECTED, actor=staff, via="counter")
    locked = order_transition(order=locked, to=S.COMPLETED, actor=staff, via="counter")
    transaction.on_commit(lambda: order_collected.send(sender=Order, order=locked))
    return locked
