"""The pickup desk: find a pickup by code or phone, take the counter payment, hand over.

Who may do it: store staff at the order's own pickup store (stores.services.permissions;
NotYourStore is a 403). A code opens an order only together with its store: the lookup
is ``Order(store=..., pickup_code=...)``, never the code alone.

Codes cannot be guessed at the desk: ``pickup_lookup_ensure`` checks first that the
clerk may act for the store (so another store's clerk can neither guess its codes nor
use up its lookups), then counts the lookup per staff user and per store the clerk acts
for (django-ratelimit, in the shared Redis cache); the view answers 429 once either limit
is reached.

The phone tail: the QR image holds only the code, so a scan finds the order; the
hand-over then asks the shopper for the last 4 digits of the order's mobile number and
refuses a wrong one (``pickup_phone_tail_check``). A found code alone never releases a
piece. An order without a mobile number (an email-only guest) has no tail to check.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from members.models import User
from o2o.errors import ApplicationError, NotFoundError, RateLimited
from o2o.phone import phone_normalize
from stores.models import Store, StoreKind
from stores.services.permissions import ensure_may_act

from ..errors import OrderInvalid
from ..models import Fulfilment, Order, OrderStatus, PaymentProvider
from .lifecycle import order_collect, order_pay

S = OrderStatus

# How a shopper pays at the counter (a terminal slip number for all but cash).
COUNTER_PROVIDERS = (PaymentProvider.CASH, PaymentProvider.CARD_TERMINAL, PaymentProvider.ALIPAY,
                     PaymentProvider.WECHAT)
# A pickup the desk still has to hand over (a phone search lists these).
WAITING_STATUSES = (S.PENDING_PAYMENT, S.PAID, S.READY_FOR_PICKUP)
PHONE_TAIL_DIGITS = 4



class PickupRefused(ApplicationError):
    """The hand-over is refused: wrong phone tail, missing terminal reference..."""

    code = "pickup_refused"


def _pickup_orders():
    return (Order.objects.filter(fulfilment=Fulfilment.PICKUP)
            .select_related("store", "member")
            .prefetch_related("lines", "payments"))


def pickup_lookup_limited(*, request, store: Store, increment: bool = True) -> bool:
    """True when this staff user or this store has used up its lookups for now.

    Rates come from settings PICKUP_LOOKUP_RATE_USER / PICKUP_LOOKUP_RATE_STORE
    (django-ratelimit syntax, "30/m"); both counters move on every lookup.
    """
    user_rate = settings.PICKUP_LOOKUP_RATE_USER
    store_rate = settings.PICKUP_LOOKUP_RATE_STORE
    by_user = is_ratelimited(request, group="orders.pickup.user",
                             key=lambda _group, req: f"user:{req.user.pk}",
                             rate=user_rate, increment=increment)
    by_store = is_ratelimited(request, group="orders.pickup.store",
                              key=lambda _group, _req: f"store:{store.pk}",
                              rate=store_rate, increment=increment)
    return by_user or by_store


def pickup_lookup_ensure(*, request, store: Store, actor: User) -> None:
    """Count one lookup by ``actor`` at ``store``: NotYourStore (403) first, without
    counting, for a clerk who may not act there; RateLimited (429) past the limit."""
    _desk_store(store=store, actor=actor)
    if pickup_lookup_limited(request=request, store=store):
        raise RateLimited(_("Too many pickup lookups in a short time. Wait a minute and "
                            "try again."))


def _desk_store(*, store: Store, actor: User) -> None:
    ensure_may_act(actor=actor, store=store)
    if store.kind != StoreKind.STORE:
        raise OrderInvalid(_("Pickups are handed over in stores, not warehouses."),
                           code="not_a_store")


def pickup_code_clean(raw: str) -> str:
    """The code as typed or scanned: spaces and dashes are ignored; 8 digits."""
    code = re.sub(r"[\s\-]", "", raw or "")
    if not re.fullmatch(r"\d{8}", code):
        raise OrderInvalid(_("A pickup code has 8 digits."), code="bad_pickup_code")
    return code


def pickup_find(*, store: Store, actor: User, code: str | None = None,
                phone: str | None = None) -> list[Order]:
    """The pickups at ``store`` with this code (at most one) or for this mobile number
    (those still waiting to be handed over, newest first).

    Raises NotYourStore (403) for another store's staff, OrderInvalid for a malformed
    code or number. Rate limiting is the caller's (it needs the request).
    """
    _desk_store(store=store, actor=actor)
    orders = _pickup_orders().filter(store=store)
    if code:
        return list(orders.filter(pickup_code=pickup_code_clean(code)))
    if phone:
        try:
            e164 = phone_normalize(phone.strip())
        except ValidationError:
            raise OrderInvalid(_("Enter a valid mobile number or an 8-digit pickup code."),
                               code="bad_phone") from None
        return list(orders.filter(Q(contact_phone=e164) | Q(member__phone=e164),
                                  status__in=WAITING_STATUSES).order_by("-placed_at")[:20])
    raise OrderInvalid(_("Enter a pickup code or the shopper's mobile number."),
                       code="lookup_empty")


def pickup_search(*, store: Store, actor: User, query: str) -> list[Order]:
    """One box for both: 8 digits are a code, anything else a mobile number."""
    query = (query or "").strip()
    if re.fullmatch(r"[\d\s\-]{8,10}", query) and len(re.sub(r"\D", "", query)) == 8:
        return pickup_find(store=store, actor=actor, code=query)
    return pickup_find(store=store, actor=actor, phone=query)


def pickup_get(*, store: Store, actor: User, pk: int) -> Order:
    """One pickup of ``store`` for the desk (NotFoundError for anything else)."""
    _desk_store(store=store, actor=actor)
    order = _pickup_orders().filter(store=store, pk=pk).first()
    if order is None:
        raise NotFoundError(_("No pickup with this code at this store."), code="not_this_store")
    return order


def pickup_phone_tail(order: Order) -> str:
    """The last digits of the order's mobile number ('' when it has none)."""
    phone = order.contact_phone or (order.member.phone if order.member_id and order.member else "")
    digits = re.sub(r"\D", "", phone or "")
    return digits[-PHONE_TAIL_DIGITS:] if len(digits) >= PHONE_TAIL_DIGITS else ""


def pickup_phone_hint(order: Order) -> str:
    """The order's mobile number as staff may see it beside the question "what are the
    last 4 digits?": the prefix only, never the answer (``138 **** ****``)."""
    phone = order.contact_phone or (order.member.phone if order.member_id and order.member else "")
    if not phone:
        return ""
    national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    return f"{national[:3]} **** ****" if len(national) >= 8 else "****"


def pickup_phone_tail_check(*, order: Order, phone_tail: str) -> None:
    expected = pickup_phone_tail(order)
    if expected and re.sub(r"\D", "", phone_tail or "") != expected:
        raise PickupRefused(_("The last 4 digits of the mobile number do not match this "
                              "order. Ask the shopper again."), code="phone_tail_mismatch")


def pickup_hand_over(*, order: Order, store: Store, actor: User, phone_tail: str) -> Order:
    """Confirm the hand-over of a paid pickup: the pieces leave the store's stock, the
    order is completed (orders.services.order_collect: locks the order; a second
    confirmation changes nothing; sends order_collected after commit).

    Raises NotYourStore (403), PickupRefused (wrong phone tail), OrderInvalid (another
    store's order), OrderTransitionNotAllowed (not paid yet, cancelled).
    """
    _desk_store(store=store, actor=actor)
    pickup_phone_tail_check(order=order, phone_tail=phone_tail)
    return order_collect(order=order, store=store, actor=actor)


def counter_payment_check(*, provider: str, reference: str) -> str:
    """A counter payment method and its terminal slip number (required but for cash)."""
    if provider not in COUNTER_PROVIDERS:
        raise PickupRefused(_("Choose how the shopper pays: cash, card terminal, Alipay or "
                              "WeChat Pay."), code="invalid_provider")
    reference = (reference or "").strip()
    if provider != PaymentProvider.CASH and not reference:
        raise PickupRefused(_("Enter the terminal's reference (slip number) for this "
                              "payment."), code="reference_required")
    if len(reference) > 100:
        raise PickupRefused(_("The terminal reference is too long."), code="reference_too_long")
    return reference


@transaction.atomic
def pickup_pay_and_collect(*, order: Order, store: Store, actor: User, provider: str,
                           reference: str = "", phone_tail: str = "",
                           amount: Decimal | None = None) -> Order:
    """A "pay at the counter" pickup: record the counter payment of the order's total
    (order_pay) and hand the pieces over (order_collect), in one transaction: both or
    neither. ``amount``, when given, must be the order's total (PaymentMismatch).
    """
    _desk_store(store=store, actor=actor)
    reference = counter_payment_check(provider=provider, reference=reference)
    if order.store_id != store.pk or order.fulfilment != Fulfilment.PICKUP:
        raise OrderInvalid(_("No pickup with this code at this store."), code="not_this_store")
    pickup_phone_tail_check(order=order, phone_tail=phone_tail)
    paid = order_pay(order=order, provider=provider, reference=reference,
                     amount=order.total if amount is None else amount,
                     currency=order.currency, actor=actor, via="pickup desk")
    return order_collect(order=paid, store=store, actor=actor)
