"""The cart: guest and member carts, live prices with price-changed and sold-out flags,
merge at sign-in, add to bag from the cached product page, the bag page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.pricing import PriceUnavailable
from orders.errors import OrderInvalid
from orders.models import Cart, CartLine
from orders.services.cart import (
    CART_SESSION_KEY,
    cart_add,
    cart_confirm_prices,
    cart_get,
    cart_lines,
    cart_merge,
    cart_remove,
    cart_set_quantity,
)
from stores.errors import SoldOut
from stores.services import stock_receive, stock_reserve
from tests.catalog.factories import ByWeightVariantFactory, MetalRateFactory, VariantFactory
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def stocked(quantity=3, store=None, **fields):
    variant = VariantFactory(**fields)
    stock_receive(store=store or StoreFactory(), variant=variant, quantity=quantity)
    return variant


# --- Services -----------------------------------------------------------------------------


def test_add_records_the_price_seen_and_adds_to_the_existing_line():
    cart = Cart.objects.create()
    variant = stocked(quantity=5, list_price=Decimal("2999.00"))
    cart_add(cart=cart, variant=variant)
    line = cart_add(cart=cart, variant=variant, quantity=2)
    assert CartLine.objects.filter(cart=cart).count() == 1
    assert line.quantity == 3
    assert line.price_seen == Decimal("2999.00")


def test_add_refuses_an_inactive_piece_a_sold_out_one_and_too_many():
    cart = Cart.objects.create()
    gone = stocked(is_active=False)
    with pytest.raises(OrderInvalid) as inactive:
        cart_add(cart=cart, variant=gone)
    assert inactive.value.code == "variant_inactive"

    nowhere = VariantFactory()
    with pytest.raises(SoldOut) as none:
        cart_add(cart=cart, variant=nowhere)
    assert (none.value.status, none.value.code) == (409, "sold_out")
    assert none.value.extra == {"sku": nowhere.sku, "available": 0}
    assert nowhere.product.title in none.value.message  # names the piece, in any language

    two = stocked(quantity=2)
    cart_add(cart=cart, variant=two, quantity=2)
    with pytest.raises(SoldOut) as more:
        cart_add(cart=cart, variant=two)
    assert more.value.code == "not_enough_stock" and more.value.extra["available"] == 2
    assert CartLine.objects.get(cart=cart, variant=two).quantity == 2

    with pytest.raises(OrderInvalid):
        cart_add(cart=cart, variant=two, quantity=0)
    assert CartLine.objects.filter(cart=cart).count() == 1


def test_a_piece_that_cannot_be_priced_is_not_added():
    variant = ByWeightVariantFactory()  # no gold rate set
    stock_receive(store=StoreFactory(), variant=variant, quantity=1)
    cart = Cart.objects.create()
    with pytest.raises(PriceUnavailable):
        cart_add(cart=cart, variant=variant)
    assert not CartLine.objects.filter(cart=cart).exists()


def test_what_can_be_sold_is_counted_at_one_place():
    variant = stocked(quantity=2)
    stock_receive(store=StoreFactory(), variant=variant, quantity=1)
    cart = Cart.objects.create()
    cart_add(cart=cart, variant=variant, quantity=2)
    with pytest.raises(SoldOut):
        cart_add(cart=cart, variant=variant, quantity=1)


def test_a_list_price_change_is_flagged_until_the_shopper_accepts_it():
    cart = Cart.objects.create()
    variant = stocked(list_price=Decimal("1999.00"))
    cart_add(cart=cart, variant=variant)
    [view] = cart_lines(cart=cart)
    assert not view.price_changed and not view.blocked

    variant.list_price = Decimal("2199.00")
    variant.save()
    [view] = cart_lines(cart=cart)
    assert view.price_changed and view.blocked
    assert (view.price_seen, view.unit_price) == (Decimal("1999.00"), Decimal("2199.00"))

    assert cart_confirm_prices(cart=cart) == 1
    [view] = cart_lines(cart=cart)
    assert not view.price_changed and view.price_seen == Decimal("2199.00")


def test_a_new_metal_rate_flags_a_by_weight_piece():
    MetalRateFactory(rate_per_gram=Decimal("780.00"))
    variant = ByWeightVariantFactory()
    stock_receive(store=StoreFactory(), variant=variant, quantity=1)
    cart = Cart.objects.create()
    cart_add(cart=cart, variant=variant)
    MetalRateFactory(rate_per_gram=Decimal("800.00"), valid_from=timezone.now())
    [view] = cart_lines(cart=cart)
    assert view.price_changed
    assert view.unit_price == Decimal("5.230") * 800 + 280  # 4464 yuan, whole
    assert view.unit_price > view.price_seen


def test_a_piece_reserved_by_someone_else_is_flagged_sold_out():
    store = StoreFactory()
    variant = stocked(quantity=1, store=store)
    cart = Cart.objects.create()
    cart_add(cart=cart, variant=variant)
    stock_reserve(store=store, variant=variant, quantity=1, expires_at=None,
                  purpose="order", reference="O-ELSEWHERE")
    [view] = cart_lines(cart=cart)
    assert view.sold_out and view.blocked and view.available == 0
    # Lowering or removing is always possible.
    cart_remove(cart=cart, variant=variant)
    assert cart_lines(cart=cart) == []


def test_set_quantity_checks_only_a_rise():
    variant = stocked(quantity=3)
    cart = Cart.objects.create()
    cart_add(cart=cart, variant=variant, quantity=3)
    with pytest.raises(SoldOut):
        cart_set_quantity(cart=cart, variant=variant, quantity=4)
    assert cart_set_quantity(cart=cart, variant=variant, quantity=1).quantity == 1
    assert cart_set_quantity(cart=cart, variant=variant, quantity=0) is None
    assert not CartLine.objects.filter(cart=cart).exists()


def test_a_guest_cart_merges_into_the_members_cart():
    member = UserFactory()
    both, only_guest, only_member = stocked(quantity=9), stocked(), stocked()
    mine = Cart.objects.create(member=member)
    cart_add(cart=mine, variant=both, quantity=2)
    cart_add(cart=mine, variant=only_member)
    guest = Cart.objects.create()
    cart_add(cart=guest, variant=both, quantity=3)
    cart_add(cart=guest, variant=only_guest)

    merged = cart_merge(guest=guest, member=member)
    assert merged.pk == mine.pk
    quantities = dict(CartLine.objects.filter(cart=mine).values_list("variant_id", "quantity"))
    assert quantities == {both.pk: 5, only_guest.pk: 1, only_member.pk: 1}
    assert not Cart.objects.filter(pk=guest.pk).exists()


def test_idle_and_empty_guest_carts_are_pruned_and_members_carts_kept():
    from datetime import timedelta

    from orders.services.cart import carts_prune

    now = timezone.now()
    idle, fresh, emptied, new_empty = (Cart.objects.create() for _ in range(4))
    for cart in (idle, fresh):
        cart_add(cart=cart, variant=stocked())
    members = Cart.objects.create(member=UserFactory())
    cart_add(cart=members, variant=stocked())
    Cart.objects.filter(pk__in=[idle.pk, members.pk]).update(updated_at=now - timedelta(days=31))
    Cart.objects.filter(pk=emptied.pk).update(updated_at=now - timedelta(days=2))
    assert carts_prune(now=now) == 2
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh.pk, new_empty.pk, members.pk}
    assert carts_prune(now=now) == 0


def test_a_guest_token_never_opens_a_members_cart():
    mine = Cart.objects.create(member=UserFactory())
    assert cart_get(token=mine.token) is None
    assert cart_get(token="not-a-uuid") is None


def test_cart_lines_cost_three_queries_whatever_the_number_of_lines(
        django_assert_num_queries):
    MetalRateFactory()
    cart = Cart.objects.create()
    for _ in range(2):
        cart_add(cart=cart, variant=stocked())
    variant = ByWeightVariantFactory()
    stock_receive(store=StoreFactory(), variant=variant, quantity=1)
    cart_add(cart=cart, variant=variant)
    with django_assert_num_queries(3):
        views = cart_lines(cart=cart)
    assert len(views) == 3


# --- Sign-in merge (allauth's signal, through the real log-in page) ------------------------


def test_signing_in_merges_the_guest_bag(client):
    member = UserFactory(email="lin@example.com")
    variant = stocked()
    response = client.post(reverse("orders:cart_add_fetch"), {"variant": variant.pk},
                           HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200
    guest_token = client.session[CART_SESSION_KEY]

    response = client.post(reverse("account_login"),
                           {"login": "lin@example.com", "password": "correct horse 42"})
    assert response.status_code == 302
    assert CART_SESSION_KEY not in client.session
    assert list(CartLine.objects.filter(cart__member=member).values_list("variant_id", flat=True)) \
        == [variant.pk]
    assert not Cart.objects.filter(token=guest_token).exists()
    assert "data-cart-count>1<" in client.get(reverse("orders:cart")).text


# --- Add to bag from the product page -------------------------------------------------------


def test_the_fetch_endpoint_needs_the_header_and_no_csrf_token():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    variant = stocked()
    url = reverse("orders:cart_add_fetch")
    refused = client.post(url, {"variant": variant.pk})
    assert refused.status_code == 400
    assert refused.json()["code"] == "header_required"
    assert not CartLine.objects.exists()

    answer = client.post(url, {"variant": variant.pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 200
    assert answer.json()["count"] == 1
    again = client.post(url, {"variant": variant.pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert again.json()["count"] == 2
    assert answer["Cache-Control"] == "no-store"


def test_the_fetch_endpoint_answers_clear_4xx(client):
    url = reverse("orders:cart_add_fetch")
    sold_out = client.post(url, {"variant": VariantFactory().pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert sold_out.status_code == 409 and sold_out.json()["code"] == "sold_out"
    unknown = client.post(url, {"variant": "999999"}, HTTP_X_REQUESTED_WITH="fetch")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_variant"
    bad = client.post(url, {"variant": stocked().pk, "quantity": "-2"},
                      HTTP_X_REQUESTED_WITH="fetch")
    assert bad.status_code == 400 and bad.json()["code"] == "quantity_invalid"
    # Digits that are not decimal ("²" passes str.isdigit) are refused, not a 500.
    odd = client.post(url, {"variant": "²"}, HTTP_X_REQUESTED_WITH="fetch")
    assert odd.status_code == 400 and odd.json()["code"] == "unknown_variant"
    odd = client.post(url, {"variant": stocked().pk, "quantity": "²"},
                      HTTP_X_REQUESTED_WITH="fetch")
    assert odd.status_code == 400 and odd.json()["code"] == "quantity_invalid"
    assert client.get(reverse("orders:cart_add") + "?variant=²").status_code == 400
    assert client.post(reverse("orders:cart_remove"), {"variant": "²"}).status_code == 302
    # Numbers of 5,000 digits (past Python's int() guard, past bigint) are a 400 too.
    huge = "9" * 5000
    answer = client.post(url, {"variant": huge}, HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 400 and answer.json()["code"] == "unknown_variant"
    answer = client.post(url, {"variant": "9" * 20}, HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 400 and answer.json()["code"] == "unknown_variant"
    answer = client.post(url, {"variant": stocked().pk, "quantity": huge},
                         HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 400 and answer.json()["code"] == "quantity_invalid"
    assert client.get(reverse("orders:cart_add") + f"?variant={huge}").status_code == 400
    assert client.post(reverse("orders:cart_remove"), {"variant": huge}).status_code == 302
    assert not CartLine.objects.exists()
    # Nothing was kept for a refused guest: no empty cart, no cart key in the session.
    assert not Cart.objects.exists() and CART_SESSION_KEY not in client.session


def test_the_product_page_stays_cached_and_token_free_with_the_buy_button(client):
    variant = stocked()
    url = reverse("catalog:product", kwargs={"slug": variant.product.slug})
    first = client.get(url)
    assert first.status_code == 200
    assert "csrftoken" not in first.cookies and "csrfmiddlewaretoken" not in first.text
    assert reverse("orders:cart_add_fetch") in first.text
    assert f'{reverse("orders:cart_add")}?variant={variant.pk}' in first.text
    assert first["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"

    # With a bag the visitor's pages are personal: never cached, and show the count.
    client.post(reverse("orders:cart_add_fetch"), {"variant": variant.pk},
                HTTP_X_REQUESTED_WITH="fetch")
    personal = client.get(url)
    assert "X-Page-Cache" not in personal
    assert 'data-cart-count>1<' in personal.text


def test_without_javascript_the_button_leads_to_a_confirm_form(client):
    from django.test import Client

    variant = stocked()
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(reverse("orders:cart_add"), {"variant": variant.pk})
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.text
    assert strict.post(reverse("orders:cart_add"), {"variant": variant.pk}).status_code == 403

    done = client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    assert done.status_code == 302 and done.url == reverse("orders:cart")
    assert CartLine.objects.get().variant == variant

    unpriced = ByWeightVariantFactory()
    answer = client.get(reverse("orders:cart_add"), {"variant": unpriced.pk})
    assert answer.status_code == 400
    assert 'data-error-code="price_unavailable"' in answer.text


# --- The bag page ----------------------------------------------------------------------------


def test_the_bag_shows_flags_and_accepting_prices_clears_them(client):
    variant = stocked(list_price=Decimal("1999.00"))
    client.post(reverse("orders:cart_add_fetch"), {"variant": variant.pk},
                HTTP_X_REQUESTED_WITH="fetch")
    page = client.get(reverse("orders:cart"))
    assert page.status_code == 200 and "data-checkout" in page.text
    assert "data-price-changed" not in page.text

    variant.list_price = Decimal("2099.00")
    variant.save()
    page = client.get(reverse("orders:cart"))
    assert 'data-flag="price-changed"' in page.text and "data-checkout" not in page.text
    # Checkout is not reachable while a line is flagged.
    assert client.get(reverse("orders:checkout_contact")).url == reverse("orders:cart")

    client.post(reverse("orders:cart_accept_prices"))
    page = client.get(reverse("orders:cart"))
    assert 'data-flag="price-changed"' not in page.text and "data-checkout" in page.text


def test_quantity_change_and_remove_from_the_bag(client):
    variant = stocked(quantity=3)
    client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    client.post(reverse("orders:cart_update"), {"variant": variant.pk, "quantity": "3"})
    assert CartLine.objects.get().quantity == 3
    response = client.post(reverse("orders:cart_update"), {"variant": variant.pk,
                                                           "quantity": "4"})
    assert response.status_code == 302 and CartLine.objects.get().quantity == 3
    client.post(reverse("orders:cart_remove"), {"variant": variant.pk})
    assert not CartLine.objects.exists()


def test_the_bag_page_costs_the_same_queries_for_one_line_or_six(client):
    variants = [stocked() for _ in range(6)]
    client.post(reverse("orders:cart_add"), {"variant": variants[0].pk})
    client.get(reverse("orders:cart"))  # warm the category menu cache
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("orders:cart")).status_code == 200
    for variant in variants[1:]:
        client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    with CaptureQueriesContext(connection) as six:
        page = client.get(reverse("orders:cart"))
    assert page.text.count("data-cart-line=") == 6
    assert len(six) == len(one)


def test_a_stale_guest_token_is_dropped(client):
    variant = stocked()
    client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    Cart.objects.all().delete()
    client.get(reverse("orders:cart"))
    assert CART_SESSION_KEY not in client.session


def test_a_line_without_a_price_seen_must_be_confirmed():
    # price_seen None (a line written by other means) counts as changed: confirm first.
    variant = stocked()
    cart = Cart.objects.create()
    CartLine.objects.create(cart=cart, variant=variant, quantity=1, price_seen=None)
    [view] = cart_lines(cart=cart)
    assert view.price_changed and view.blocked


@pytest.mark.django_db(transaction=True)
def test_parallel_adds_to_one_cart_never_hold_more_than_can_be_sold():
    from tests.concurrency import race

    variant = stocked(quantity=2)
    cart = Cart.objects.create()

    def work(_i):
        return cart_add(cart=cart, variant=variant).quantity

    added, errors = race(5, work)
    assert sorted(added) == [1, 2]
    assert len(errors) == 3 and all(isinstance(e, SoldOut) for e in errors), errors
    assert CartLine.objects.get(cart=cart).quantity == 2


def test_the_bag_shows_each_pieces_photo(client):
    from catalog.models import ProductImage

    with_photo, without = stocked(), stocked()
    ProductImage.objects.create(product=with_photo.product, original="products/ring-photo.jpg",
                                alt="素金戒指")
    for variant in (with_photo, without):
        client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    page = client.get(reverse("orders:cart")).text
    line = page[page.index(f'data-cart-line="{with_photo.sku}"'):]
    assert "ring-photo.jpg" in line[:line.index("cart-line__what")]
    other = page[page.index(f'data-cart-line="{without.sku}"'):]
    assert "placeholder" in other[:other.index("cart-line__what")]  # the house placeholder
