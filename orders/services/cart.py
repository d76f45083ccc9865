"""The shopper's cart: a guest's (its token in the session) or a member's (kept across
devices), merged at sign-in.

A line keeps what was chosen and ``price_seen``, the price the shopper last saw. The
price charged always comes from ``catalog.pricing.variant_price`` at checkout, and a
line whose live price differs from ``price_seen`` is flagged (``cart_lines``) until
the shopper accepts it (``cart_confirm_prices``): a new price is never charged silently.

"What can be sold" of a piece is the most pieces available (on hand less reserved) at
one active location, because an order reserves all of a line at one place.

LOCKS: the Cart row (select_for_update) serialises writes to one cart (two tabs, a
double click); stock is only read here, it is reserved by order_place at checkout.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import PricingMode, ProductImage, Variant
from catalog.pricing import PriceUnavailable, rates_in_force, variant_price
from catalog.selectors import cover_image, for_sale, with_cover
from members.errors import PointsInvalid
from members.models import User
from members.services.coupons import coupon_code_clean
from o2o.errors import NotFoundError
from stores.errors import SoldOut
from stores.models import Store, StoreKind
from stores.selectors import availability_by_store_id

from ..errors import OrderInvalid
from ..models import Cart, CartLine, OrderChannel
from .loyalty import Discounts, discounts_quote

# The one session key of a guest's cart: the cart's token (a string).
CART_SESSION_KEY = "orders:cart"
# No line holds more than this many pieces (a jeweller's cart, not a wholesaler's).
MAX_LINE_QUANTITY = 20


@dataclass
class CartLineView:
    """A cart line as the shopper sees it now."""

    line: CartLine
    variant: Variant
    quantity: int
    price_seen: Decimal | None
    unit_price: Decimal | None  # live, from variant_price; None: cannot be priced today
    available: int  # most pieces available at one active location
    stores: dict[int, int] = field(default_factory=dict)  # store id -> available there
    inactive: bool = False
    picture: ProductImage | None = None  # the piece's first photo, for the bag

    @property
    def product(self):
        return self.variant.product

    @property
    def unpriced(self) -> bool:
        return self.unit_price is None

    @property
    def price_changed(self) -> bool:
        return self.unit_price is not None and self.unit_price != self.price_seen

    @property
    def sold_out(self) -> bool:
        return self.inactive or self.available < self.quantity

    @property
    def blocked(self) -> bool:
        """Cannot go to checkout as it is: the shopper must look at it first."""
        return self.sold_out or self.unpriced or self.price_changed

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


def _token(raw) -> uuid.UUID | None:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        return None


def cart_get(*, member: User | None = None, token=None) -> Cart | None:
    """A member's cart, or a guest's by its token (a guest token never opens a member's
    cart). None when there is none."""
    if member is not None and getattr(member, "is_authenticated", False):
        return Cart.objects.filter(member=member).first()
    token = _token(token)
    if token is None:
        return None
    return Cart.objects.filter(token=token, member__isnull=True).first()


def cart_for_request(*, user, session, create: bool = False) -> Cart | None:
    """The cart of whoever makes a request (``request.user``, ``request.session``).

    A guest's cart token is kept in the session under CART_SESSION_KEY; a stale token
    is dropped (so the visitor's pages can be served from the page cache again). With
    ``create`` a cart is made when there is none."""
    if getattr(user, "is_authenticated", False):
        cart = cart_get(member=user)
        if cart is None and create:
            cart, _created = Cart.objects.get_or_create(member=user)
        return cart
    raw = session.get(CART_SESSION_KEY)
    cart = cart_get(token=raw) if raw else None
    if cart is None and raw is not None:
        session.pop(CART_SESSION_KEY, None)
    if cart is None and create:
        cart = Cart.objects.create()
        session[CART_SESSION_KEY] = str(cart.token)
    return cart


def cart_count(*, cart: Cart | None) -> int:
    """Pieces in the cart (one query)."""
    if cart is None:
        return 0
    return sum(CartLine.objects.filter(cart=cart).values_list("quantity", flat=True))


def sellable(variant_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """Available pieces per variant per active location: ``{variant_id: {store_id: n}}``
    (one query; locations with none are left out)."""
    return availability_by_store_id(variant_ids)


def _check_quantity(quantity) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise OrderInvalid(_("Give the quantity as a whole number."), code="quantity_invalid")
    if quantity < 0 or quantity > MAX_LINE_QUANTITY:
        raise OrderInvalid(
            _("Choose between 1 and %(max)s pieces.") % {"max": MAX_LINE_QUANTITY},
            code="quantity_invalid")
    return quantity


def _check_sellable(variant: Variant, quantity: int,
                    places: dict[int, int] | None = None) -> None:
    """``places``: the variant's ``sellable`` answer, when the caller has read it."""
    name = variant.product.title
    if not (variant.is_active and variant.product.is_active):
        raise OrderInvalid(_("%(piece)s is no longer sold.") % {"piece": name},
                           code="variant_inactive", extra={"sku": variant.sku})
    if places is None:
        places = sellable([variant.pk]).get(variant.pk, {})
    most = max(places.values(), default=0)
    if most <= 0:
        raise SoldOut(_("%(piece)s is sold out.") % {"piece": name},
                      extra={"sku": variant.sku, "available": 0})
    if quantity > most:
        raise SoldOut(
            _("Only %(count)s of %(piece)s are available; choose fewer.") % {
                "count": most, "piece": name},
            code="not_enough_stock", extra={"sku": variant.sku, "available": most})


def _locked(cart: Cart) -> Cart:
    locked = Cart.objects.select_for_update(of=("self",)).filter(pk=cart.pk).first()
    if locked is None:
        raise NotFoundError(_("This bag is no longer there; please add the pieces again."),
                            code="cart_gone")
    return locked


def cart_remember(*, session, cart: Cart) -> None:
    """Keep a guest's cart token in the session (``cart_for_request`` finds it there)."""
    if cart.member_id is None and session.get(CART_SESSION_KEY) != str(cart.token):
        session[CART_SESSION_KEY] = str(cart.token)


@transaction.atomic
def cart_add(*, cart: Cart, variant: Variant, quantity: int = 1) -> CartLine:
    """Add ``quantity`` of ``variant`` (to its line if there is one) and record the price
    the shopper sees now as ``price_seen``.

    Raises OrderInvalid (inactive piece, bad quantity), PriceUnavailable (no price
    today) or SoldOut (409: none, or fewer than the line would hold). Locks the cart."""
    _cart, line, _views = _add(cart=cart, member=None, variant=variant, quantity=quantity)
    return line


@transaction.atomic
def cart_add_viewed(*, cart: Cart | None, member: User | None, variant: Variant,
                    quantity: int = 1) -> tuple[Cart, list[CartLineView]]:
    """``cart_add`` for the bag's API, which answers with the whole bag: the cart (made
    here when there is none: ``member``'s, or a guest's, which the caller keeps with
    ``cart_remember``) and its lines as ``cart_lines(pictures=False)`` shows them, built
    from what the checks read inside the transaction instead of a second look after it.
    A refused add makes no cart."""
    cart, _line, views = _add(cart=cart, member=member, variant=variant, quantity=quantity)
    return cart, views


def _add(*, cart: Cart | None, member: User | None, variant: Variant,
         quantity: int) -> tuple[Cart, CartLine, list[CartLineView]]:
    _check_quantity(quantity)
    if quantity == 0:
        raise OrderInvalid(_("Choose at least one piece."), code="quantity_invalid")
    lines: list[CartLine] = []
    if cart is None and member is None:
        cart = Cart.objects.create()  # the INSERT holds the new row's lock to commit
    elif cart is None:
        cart, created = Cart.objects.get_or_create(member=member)
        if not created:
            return _add(cart=cart, member=member, variant=variant, quantity=quantity)
    else:
        # The UPDATE of updated_at locks the row (two tabs, a double click queue here).
        if not Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now()):
            raise NotFoundError(_("This bag is no longer there; please add the pieces "
                                  "again."), code="cart_gone")
        # At most CART_MAX_LINES rows; no pictures: neither caller shows them.
        lines = list(_lines_of(cart, pictures=False))
    line = next((existing for existing in lines if existing.variant_id == variant.pk), None)
    if line is None and len(lines) >= settings.CART_MAX_LINES:
        raise OrderInvalid(_("Your bag holds at most %(count)s different pieces.")
                           % {"count": settings.CART_MAX_LINES}, code="too_many_lines")
    total = quantity + (line.quantity if line else 0)
    if total > MAX_LINE_QUANTITY:
        _check_quantity(total)
    stock = sellable({*(existing.variant_id for existing in lines), variant.pk})
    _check_sellable(variant, total, stock.get(variant.pk, {}))
    rates = rates_needed(existing.variant for existing in lines) if lines else None
    if rates is None and variant.pricing_mode != PricingMode.FIXED:
        rates = rates_in_force()
    price = variant_price(variant=variant, rates=rates).amount
    if line is None:
        line = CartLine.objects.create(cart=cart, variant=variant, quantity=total,
                                       price_seen=price)
        lines.append(line)
    else:
        line.quantity, line.price_seen = total, price
        line.save(update_fields=["quantity", "price_seen"])
    return cart, line, _line_views(lines, rates=rates, stock=stock)


@transaction.atomic
def cart_set_quantity(*, cart: Cart, variant: Variant, quantity: int) -> CartLine | None:
    """Set a line's quantity; 0 removes it (returns None). Lowering is always allowed
    (even on a sold-out piece); raising is checked like ``cart_add``. ``price_seen`` is
    left as it was: a changed price stays flagged."""
    _check_quantity(quantity)
    locked = _locked(cart)
    line = CartLine.objects.filter(cart=locked, variant=variant).first()
    if quantity == 0:
        if line is not None:
            line.delete()
            locked.save(update_fields=["updated_at"])
        return None
    if line is None:
        return cart_add(cart=locked, variant=variant, quantity=quantity)
    if quantity > line.quantity:
        _check_sellable(variant, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    locked.save(update_fields=["updated_at"])
    return line


def cart_remove(*, cart: Cart, variant: Variant) -> None:
    cart_set_quantity(cart=cart, variant=variant, quantity=0)


@transaction.atomic
def cart_merge(*, guest: Cart | None, member: User) -> Cart:
    """At sign-in: the guest's lines go into the member's cart (quantities added, the
    guest's ``price_seen`` kept, being the latest seen) and the guest cart is deleted.
    Never refuses (a sign-in must not fail over a cart): a merged line above what can
    be sold is flagged sold out on the cart page. Locks both carts in pk order."""
    target, _created = Cart.objects.get_or_create(member=member)
    if guest is None or guest.pk == target.pk or guest.member_id is not None:
        return target
    carts = {c.pk: c for c in Cart.objects.select_for_update(of=("self",))
             .filter(pk__in=[guest.pk, target.pk]).order_by("pk")}
    if guest.pk not in carts:  # merged by a parallel sign-in already
        return target
    target = carts[target.pk]
    mine = {line.variant_id: line for line in CartLine.objects.filter(cart=target)}
    for line in CartLine.objects.filter(cart_id=guest.pk):
        own = mine.get(line.variant_id)
        if own is None:
            line.cart = target
            line.save(update_fields=["cart"])
        else:
            own.quantity = min(own.quantity + line.quantity, MAX_LINE_QUANTITY)
            own.price_seen = line.price_seen if line.price_seen is not None else own.price_seen
            own.save(update_fields=["quantity", "price_seen"])
    Cart.objects.filter(pk=guest.pk).delete()
    target.save(update_fields=["updated_at"])
    return target


def carts_prune(*, now: datetime | None = None) -> int:
    """Beat: forget guest carts untouched for GUEST_CART_DAYS (their session is long gone
    or idle) and empty guest carts older than a day (left by a checkout). Members' carts
    are kept. Returns how many carts went."""
    now = now or timezone.now()
    stale = Q(updated_at__lt=now - timedelta(days=settings.GUEST_CART_DAYS))
    empty = Q(lines__isnull=True, updated_at__lt=now - timedelta(days=1))
    doomed = Cart.objects.filter(member__isnull=True).filter(stale | empty).values("pk")
    _total, per_model = Cart.objects.filter(pk__in=doomed).delete()
    return per_model.get(Cart._meta.label, 0)


def rates_needed(variants: Iterable[Variant]) -> dict | None:
    """The metal rates in force when one of ``variants`` is priced by weight (one query),
    else None: fixed prices need none."""
    if any(variant.pricing_mode != PricingMode.FIXED for variant in variants):
        return rates_in_force()
    return None


def _lines_of(cart: Cart, *, pictures: bool = True):
    """The cart's lines with their pieces; with ``pictures``, each annotated with its
    product's first photo (the bag page shows it; the API's answer and checkout do not:
    without it the query is lighter to build and to run)."""
    lines = CartLine.objects.filter(cart=cart).select_related("variant__product").order_by(
        "added_at", "id")
    # The bag page shows more of a piece; the API and checkout only what selling reads.
    return with_cover(lines, "variant__product_id") if pictures else for_sale(lines, "variant")


def cart_lines(*, cart: Cart | None, rates: dict | None = None,
               pictures: bool = True) -> list[CartLineView]:
    """Each line with its live price, availability and flags. Three queries whatever the
    number of lines (lines with pieces, metal rates unless given or every price is fixed,
    stock). Without ``pictures`` the views have none (``picture`` None)."""
    return cart_lines_priced(cart=cart, rates=rates, pictures=pictures)[0]


def cart_lines_priced(*, cart: Cart | None, rates: dict | None = None,
                      pictures: bool = True) -> tuple[list[CartLineView], dict]:
    """``cart_lines`` and the metal rates they were priced with ({} when every price is
    fixed), for a caller that prices them again (``order_place``)."""
    if cart is None:
        return [], {}
    lines = list(_lines_of(cart, pictures=pictures))
    if not lines:
        return [], {}
    if rates is None:
        rates = rates_needed(line.variant for line in lines)
    views = _line_views(lines, rates=rates, stock=sellable(line.variant_id for line in lines))
    return views, rates or {}


def _line_views(lines: list[CartLine], *, rates: dict | None,
                stock: dict[int, dict[int, int]]) -> list[CartLineView]:
    views = []
    for line in lines:
        variant = line.variant
        try:
            unit = variant_price(variant=variant, rates=rates).amount
        except PriceUnavailable:
            unit = None
        places = stock.get(variant.pk, {})
        views.append(CartLineView(
            line=line, variant=variant, quantity=line.quantity, price_seen=line.price_seen,
            unit_price=unit, available=max(places.values(), default=0), stores=places,
            inactive=not (variant.is_active and variant.product.is_active),
            picture=cover_image(variant.product_id, getattr(line, "cover", None))))
    return views


def cart_subtotal(views: Iterable[CartLineView]) -> Decimal:
    """The live total of the lines that can be bought as they are."""
    return sum((v.line_total for v in views if not v.blocked and v.line_total is not None),
               Decimal("0.00"))


@transaction.atomic
def cart_confirm_prices(*, cart: Cart) -> int:
    """The shopper accepts today's prices: each line's ``price_seen`` becomes its live
    price. Returns how many lines changed. Locks the cart."""
    locked = _locked(cart)
    changed = 0
    for view in cart_lines(cart=locked):
        if view.price_changed:
            view.line.price_seen = view.unit_price
            view.line.save(update_fields=["price_seen"])
            changed += 1
    return changed


def source_for_delivery(views: list[CartLineView], stores: dict[int, Store]) -> Store | None:
    """Where a delivered order is sent from: a warehouse that has every piece, else a
    store that has them (the fewest transfer days, then by code). None: no one place has
    them all."""
    candidates = [
        store for store in stores.values()
        if all(v.stores.get(store.pk, 0) >= v.quantity for v in views)
    ]
    candidates.sort(key=lambda s: (s.kind != StoreKind.WAREHOUSE, s.code))
    return candidates[0] if candidates else None


def _priced(views: Iterable[CartLineView]) -> list[tuple[Variant, Decimal]]:
    return [(v.variant, v.line_total) for v in views
            if not v.blocked and v.line_total is not None]


def cart_discounts(*, cart: Cart | None, member: User | None,
                   views: list[CartLineView] | None = None) -> Discounts:
    """What the cart's coupon and points take off its lines now (reasons included)."""
    views = cart_lines(cart=cart) if views is None else views
    return discounts_quote(lines=_priced(views), member=member, channel=OrderChannel.ONLINE,
                           coupon_code=cart.coupon_code if cart else "",
                           points=(cart.points if cart and member is not None else 0))


@transaction.atomic
def cart_discounts_set(*, cart: Cart, member: User | None, coupon_code: str | None = None,
                       points: int | None = None) -> Discounts:
    """Keep a coupon code and/or the points to use on the cart (None: leave as it is; ""
    or 0 removes). Checked against the cart's lines now: CouponNotApplicable with the
    reason, or PointsInvalid, and nothing is kept. The order is checked again when
    placed. Locks the cart."""
    locked = _locked(cart)
    if coupon_code is not None:
        locked.coupon_code = coupon_code_clean(coupon_code)[:24]
    if points is not None:
        if points and member is None:
            raise PointsInvalid(_("Sign in to use your points."), code="points_need_member")
        locked.points = points
    quote = cart_discounts(cart=locked, member=member)
    if coupon_code and quote.coupon_error:
        raise quote.coupon_error
    if points and quote.points_error:
        raise quote.points_error
    locked.save(update_fields=["coupon_code", "points", "updated_at"])
    return quote
