"""From the cart to an order awaiting payment.

``checkout_pickup_stores`` says where the cart can be collected and when;
``checkout_place`` turns the cart into an order through ``order_place`` (prices frozen,
stock reserved all or nothing) and empties the cart, in one transaction.

Pickup at a store that lacks a piece is offered with "ready in N days": ``order_place``
requests the lacking pieces by one transfer from the quickest place that has them all
(``lifecycle.transfer_source_quickest``, the same choice here and there; N is that
place's ``Store.dispatch_days``). Only a store that no one place can supply is refused
(code ``store_lacks_pieces``).

Holds are bounded (docs/decisions.md, "Holding pieces without paying"): an order placed
without paying holds its pieces (30 minutes online, PAY_AT_COUNTER_DAYS at the counter),
so ``checkout_place`` refuses a cart of more than CART_MAX_LINES lines, and a contact
(the member, the mobile number, the email) past HOLD_MAX_ORDERS open unpaid orders or
HOLD_MAX_VALUE of them; a pickup paid at the counter by a guest or a member whose number
is not verified may hold at most one order of HOLD_COUNTER_GUEST_MAX_VALUE.
``checkout_rate_limit`` counts checkouts per client address and per contact.

LOCKS: transaction-level advisory locks on the contact's keys (in sorted order: two
checkouts of one contact queue there, so the hold limits hold under a race), then the
Cart row (a double submit places one order; the second finds the cart empty), then what
order_place locks (its stock rows by pk).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from members.models import User
from members.services import address_clean
from o2o.errors import ApplicationError, ConflictError, RateLimited
from o2o.phone import phone_normalize
from stores.errors import SoldOut
from stores.models import Store, StoreKind

from ..errors import OrderInvalid
from ..models import Cart, CartLine, Fulfilment, Order, OrderStatus
from .cart import CartLineView, _locked, cart_lines, cart_lines_priced, source_for_delivery
from .lifecycle import order_place_locked, transfer_source_quickest
from .payments import payments_online_ensure


class CartNeedsReview(ConflictError):
    """A line's price changed, or it sold out, since the shopper last saw it."""

    code = "cart_needs_review"


@dataclass(frozen=True)
class PickupOption:
    store: Store
    ready_in_days: int | None  # 0: every piece is there now; None: cannot be had at all
    missing: tuple[str, ...] = ()  # SKUs that would come by transfer

    @property
    def ready_today(self) -> bool:
        return self.ready_in_days == 0


def _all_places(views: list[CartLineView]) -> dict[int, Store]:
    ids = {store_id for v in views for store_id in v.stores}
    return {s.pk: s for s in Store.objects.filter(pk__in=ids, is_active=True)}


def checkout_pickup_stores(*, cart: Cart | None) -> list[PickupOption]:
    """Every active shop, those with every piece available now first ("ready today"),
    then the others by the days the transfer of what they lack takes (from the quickest
    place that has all of it, ``Store.dispatch_days``: what order_place will request),
    then stores that cannot get the pieces at all. Five queries (lines, rates, stock,
    shops, other places)."""
    views = cart_lines(cart=cart)
    shops = list(Store.objects.shops().order_by("city", "code"))
    others = list(_all_places(views).values()) if views else []
    available = {view.variant.pk: view.stores for view in views}
    options = []
    for shop in shops:
        lacking = [view for view in views if view.stores.get(shop.pk, 0) < view.quantity]
        if not lacking:
            options.append(PickupOption(shop, 0))
            continue
        source = transfer_source_quickest(
            needs=[(view.variant.pk, view.quantity) for view in lacking], available=available,
            places=others, destination=shop)
        options.append(PickupOption(shop, source.dispatch_days if source else None,
                                    tuple(view.variant.sku for view in lacking)))
    options.sort(key=lambda o: (o.ready_in_days is None, o.ready_in_days or 0))
    return options


def _phone(raw: str) -> str:
    try:
        return phone_normalize((raw or "").strip()) if raw else ""
    except ValidationError:
        return (raw or "").strip()


class HoldRefused(ApplicationError):
    """The contact already holds as many unpaid pieces as an unpaid order may."""

    code = "hold_limit"
    status = 409


def _contact_keys(*, member: User | None, phone: str, email: str) -> list[str]:
    keys = {f"phone:{phone}" if phone else "", f"email:{email.lower()}" if email else "",
            f"member:{member.pk}" if member is not None else ""}
    return sorted(k for k in keys if k)


def checkout_rate_limit(*, request, contact_phone: str = "", contact_email: str = "") -> None:
    """Count one checkout for the client's address and for the contact; RateLimited (429)
    past CHECKOUT_RATE_CLIENT or CHECKOUT_RATE_CONTACT (django-ratelimit rates)."""
    over = is_ratelimited(request, group="orders.checkout.client", key="ip",
                          rate=settings.CHECKOUT_RATE_CLIENT, increment=True)
    for key in _contact_keys(member=None, phone=(contact_phone or "").strip(),
                             email=(contact_email or "").strip()):
        over = is_ratelimited(request, group="orders.checkout.contact",
                              key=lambda _group, _request, k=key: k,
                              rate=settings.CHECKOUT_RATE_CONTACT, increment=True) or over
    if over:
        raise RateLimited(_("Too many orders in a short time. Please wait a few minutes, "
                            "or call the store."))


def _holds_held(*, member: User | None, phone: str, email: str) -> dict:
    """The contact's open unpaid orders (awaiting payment, not expired): ``count``,
    ``value`` (their totals) and ``at_counter`` (how many are paid at the counter).

    One statement in SQL: it runs in every checkout, under the contact's locks, and the
    ORM's building of it cost more CPU than the rest of the hold check. The email matches
    whatever its case (as ``contact_email__iexact`` did)."""
    who, params = [], []
    if member is not None:
        who.append("member_id = %s")
        params.append(member.pk)
    if phone:
        who.append("contact_phone = %s")
        params.append(phone)
    if email:
        who.append("UPPER(contact_email::text) = UPPER(%s)")
        params.append(email)
    if not who:
        return {"count": 0, "value": Decimal("0"), "at_counter": 0}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(total), 0), "
            f"COUNT(*) FILTER (WHERE pay_at_counter) FROM {Order._meta.db_table} "
            f"WHERE ({' OR '.join(who)}) AND status = %s "
            f"AND (expires_at IS NULL OR expires_at > %s)",
            [*params, OrderStatus.PENDING_PAYMENT, timezone.now()])
        count, value, at_counter = cursor.fetchone()
    return {"count": count, "value": Decimal(value), "at_counter": at_counter}


def _holds_check(*, member: User | None, phone: str, email: str, value: Decimal,
                 pay_at_counter: bool) -> None:
    """Refuse an unpaid order past the contact's hold limits (see the module docstring).
    Call under the contact's advisory locks, before the order is written."""
    keys = _contact_keys(member=member, phone=phone, email=email)
    with connection.cursor() as cursor:  # one statement, the keys locked in sorted order
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 7)) "
                       "FROM unnest(%s::text[]) AS k ORDER BY k",
                       [[f"orders.hold:{key}" for key in keys]])
    held = _holds_held(member=member, phone=phone, email=email)
    verified = member is not None and bool(member.phone_verified)
    count, total = held["count"], held["value"] + value
    most = (Decimal(settings.HOLD_MAX_VALUE_VERIFIED) if verified
            else Decimal(settings.HOLD_MAX_VALUE))
    if count >= settings.HOLD_MAX_ORDERS or total > most:
        raise HoldRefused(
            _("You already have orders waiting for their payment. Pay or cancel one of "
              "them first (My orders, or the link in their email)."),
            extra={"open_orders": count})
    counter_limit = Decimal(settings.HOLD_COUNTER_GUEST_MAX_VALUE)
    if pay_at_counter and not verified and (held["at_counter"] or value > counter_limit):
        raise HoldRefused(
            _("Pieces are held for the counter for one order of up to %(amount)s per "
              "shopper. Pay online, or sign in with a verified mobile number to hold "
              "more.") % {"amount": settings.HOLD_COUNTER_GUEST_MAX_VALUE},
            code="hold_counter_limit")


@transaction.atomic
def checkout_place(
    *,
    cart: Cart,
    fulfilment: str,
    store: Store | None = None,
    address: dict | None = None,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    member: User | None = None,
    pay_at_counter: bool = False,
    language: str | None = None,
) -> Order:
    """Place the cart as an order awaiting payment and empty the cart, all or nothing.

    Refuses, writing nothing: an empty cart (OrderInvalid cart_empty); a line whose
    price changed since the shopper saw it or that cannot be priced (CartNeedsReview
    409: the shopper confirms on the cart page first); a line sold out (or no longer
    sold) since it was added (SoldOut 409, code sold_out, naming the pieces); a bad address
    (AddressInvalid 400 with ``fields``); a pickup store that lacks pieces no one place
    can send it (OrderInvalid store_lacks_pieces, from order_place: the pieces a store
    lacks otherwise come by transfer); pieces no one place has for a delivery (SoldOut).
    SoldOut from order_place when someone else took the last piece meanwhile.

    The delivery address is kept in Order.address (recipient, phone, province, city,
    district, street, postcode). The order's lines are priced by order_place with
    catalog.pricing; they must equal what the shopper confirmed, else CartNeedsReview.
    The cart's coupon code and points are redeemed on the order (CouponNotApplicable with
    the reason, PointsInvalid, PointsInsufficient: nothing written); the cart keeps them
    until the order is placed.
    """
    if not pay_at_counter:
        payments_online_ensure()  # OnlinePaymentOff (503): nothing held for nothing
    locked = _locked(cart)
    # Fixed prices need no rates ({}); no pictures: the order keeps none.
    views, rates = cart_lines_priced(cart=locked, pictures=False)
    if not views:
        raise OrderInvalid(_("Your bag is empty."), code="cart_empty")
    if len(views) > settings.CART_MAX_LINES:
        raise OrderInvalid(_("An order takes at most %(count)s different pieces; please "
                             "split your bag.") % {"count": settings.CART_MAX_LINES},
                           code="too_many_lines")
    sold_out = [v for v in views if v.sold_out]
    if sold_out:
        raise SoldOut(
            _("Sold out meanwhile: %(pieces)s. Please look at your bag again.") % {
                "pieces": ", ".join(v.product.title for v in sold_out)},
            extra={"skus": [v.variant.sku for v in sold_out]})
    flagged = [v for v in views if v.blocked]
    if flagged:
        raise CartNeedsReview(
            _("Some pieces in your bag changed price or sold out; please look at your bag "
              "again before paying."),
            extra={"skus": [v.variant.sku for v in flagged]})

    stock_from = None
    clean_address: dict = {}
    if fulfilment == Fulfilment.DELIVERY:
        clean_address = address_clean(address)
        stock_from = source_for_delivery(views, _all_places(views))
        if stock_from is None:
            raise SoldOut(_("We cannot send these pieces together right now; remove one or "
                            "choose a pickup."), code="no_source")
    elif fulfilment == Fulfilment.PICKUP and (
            store is None or store.kind != StoreKind.STORE or not store.is_active):
        raise OrderInvalid(_("Choose one of our stores for the pickup."), code="store_required")

    _holds_check(member=member, phone=_phone(contact_phone), email=(contact_email or "").strip(),
                 value=sum((v.price_seen * v.quantity for v in views), Decimal("0.00")),
                 pay_at_counter=pay_at_counter)
    order = order_place_locked(  # in this transaction: a refusal undoes all of it
        lines=[(v.variant, v.quantity) for v in views], fulfilment=fulfilment, store=store,
        stock_from=stock_from, member=member, contact_name=contact_name,
        contact_phone=contact_phone, contact_email=contact_email, language=language,
        pay_at_counter=pay_at_counter, coupon_code=locked.coupon_code,
        points=locked.points if member is not None else 0, actor=member, via="checkout",
        available={v.variant.pk: v.stores for v in views}, rates=rates)
    confirmed = sum((v.price_seen * v.quantity for v in views), Decimal("0.00"))
    if order.subtotal != confirmed:  # a rate moved between our look and order_place's
        raise CartNeedsReview(_("A price changed just now; please look at your bag again."))
    if clean_address:
        order.address = clean_address
        order.save(update_fields=["address", "updated_at"])
    CartLine.objects.filter(cart=locked).delete()
    if locked.coupon_code or locked.points:
        locked.coupon_code, locked.points = "", 0
        locked.save(update_fields=["coupon_code", "points", "updated_at"])
    return order
