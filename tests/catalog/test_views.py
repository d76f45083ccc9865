"""The shopper's catalog pages: list, search, suggestions, product page, wishlist,
recently viewed, affinities, query budgets and cache invalidation."""

import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from catalog.models import Category, Certificate, Collection, Product, Variant, WishlistItem
from catalog.services import (
    metal_rate_create,
    prices_refresh,
    product_affinities_replace,
    product_search_refresh,
    products_changed,
    products_set_active,
)
from catalog.signals import product_viewed
from tests.stores.factories import StockLevelFactory, StoreFactory

from .factories import ByWeightVariantFactory, MetalRateFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

LIST = "/products/"


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English leaves English active in this thread: start from the default,
    and leave no language behind for the next test."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def product_url(product) -> str:
    return reverse("catalog:product", kwargs={"slug": product.slug})


@pytest.fixture
def shop():
    """Rings (with wedding bands below), necklaces and pendants; a bridal collection; two
    shops and a warehouse; fixed-price and by-weight pieces, certificates and stock."""
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings", position=1)
    bands = Category.objects.create(name="婚戒", name_en="Wedding bands", slug="bands",
                                    parent=rings, position=2)
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces",
                                        position=3)
    pendants = Category.objects.create(name="吊坠", name_en="Pendants", slug="pendants",
                                       position=4)
    bridal = Collection.objects.create(name="婚嫁", name_en="Bridal", slug="bridal")
    shanghai = StoreFactory(code="sh", name="上海南京西路店", name_en="Shanghai West Nanjing Rd",
                            city="上海", city_en="Shanghai")
    beijing = StoreFactory(code="bj", name="北京国贸店", name_en="Beijing China World",
                           city="北京", city_en="Beijing")
    warehouse = StoreFactory(code="wh", name="中央仓", name_en="Central warehouse",
                             kind="warehouse")
    MetalRateFactory(metal="gold", purity="999", rate_per_gram=Decimal("780.00"))

    made = {}

    def piece(slug, category, name, name_en, material, gemstone="", prices=("1999",),
              sizes=("",)):
        product = ProductFactory(slug=slug, category=category, name=name, name_en=name_en,
                                 material=material, gemstone=gemstone)
        for size, price in zip(sizes, prices, strict=True):
            VariantFactory(product=product, size=size, list_price=Decimal(price),
                           sku=f"{slug[:12].upper()}-{size or 'X'}")
        made[slug] = product
        return product

    piece("diamond-solitaire", rings, "钻石求婚戒", "Diamond solitaire ring", "diamond",
          "diamond", prices=("12800", "13800"), sizes=("10", "12"))
    piece("platinum-band", bands, "铂金婚戒", "Platinum wedding band", "platinum",
          prices=("4600", "4600"), sizes=("12", "14"))
    piece("pearl-necklace", necklaces, "珍珠项链", "Pearl necklace", "pearl", "pearl",
          prices=("2600",), sizes=("45cm",))
    piece("gold-necklace", necklaces, "足金项链", "Gold necklace", "gold",
          prices=("36000",), sizes=("45cm",))
    piece("pearl-pendant", pendants, "珍珠吊坠", "Pearl pendant", "pearl", "pearl",
          prices=("680",))
    gold_ring = ProductFactory(slug="gold-ring", category=rings, name="足金素圈戒指",
                               name_en="Plain gold ring", material="gold")
    ByWeightVariantFactory(product=gold_ring, sku="GOLD-RING-10", size="10",
                           weight_g=Decimal("5.000"), labour_fee=Decimal("280.00"))
    ByWeightVariantFactory(product=gold_ring, sku="GOLD-RING-12", size="12",
                           weight_g=Decimal("6.000"), labour_fee=Decimal("280.00"))
    # 18K has no rate in force: this variant cannot be priced.
    ByWeightVariantFactory(product=gold_ring, sku="GOLD-RING-K18", size="12", purity="750",
                           weight_g=Decimal("4.000"))
    made["gold-ring"] = gold_ring
    for slug in ("diamond-solitaire", "platinum-band"):
        made[slug].collections.add(bridal)

    solitaire_10 = made["diamond-solitaire"].variants.get(size="10")
    Certificate.objects.create(variant=solitaire_10, lab="GIA", number="2141438171",
                               carat=Decimal("0.50"), colour="F", clarity="VS1",
                               cut="Excellent")
    StockLevelFactory(store=shanghai, variant=solitaire_10, on_hand=2)
    StockLevelFactory(store=beijing, variant=solitaire_10, on_hand=1, reserved=1)  # all held
    StockLevelFactory(store=warehouse, variant=solitaire_10, on_hand=9)  # not a shop
    StockLevelFactory(store=beijing, variant=made["pearl-necklace"].variants.get(), on_hand=1)
    StockLevelFactory(store=beijing, variant=gold_ring.variants.get(sku="GOLD-RING-12"),
                      on_hand=3)
    product_search_refresh()
    prices_refresh()
    for product in made.values():
        product.refresh_from_db()
    made["stores"] = {"sh": shanghai, "bj": beijing, "wh": warehouse}
    return made


def slugs_on(response) -> list[str]:
    """The product slugs of the grid's cards, in order."""
    html = response.content.decode()
    grid = html.split('class="product-grid', 1)[1].split("</div>\n\n", 1)[0] if (
        'class="product-grid' in html) else ""
    return re.findall(r'class="product-card__link" href="/(?:en/)?products/([\w-]+)/"', grid)


def variant_data(response) -> dict:
    match = re.search(r'<script id="product-variants" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    return json.loads(match.group(1))


def not_session(queries) -> list[str]:
    """The captured SQL that is not the session's own upkeep (savepoints included)."""
    return [q["sql"] for q in queries
            if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]]


# --- The list ---------------------------------------------------------------------------


def test_the_list_shows_active_pieces_with_their_from_price(client, shop):
    products_set_active(product_ids=[shop["pearl-pendant"].pk], active=False)
    response = client.get(LIST)
    assert response.status_code == 200
    assert set(slugs_on(response)) == {"diamond-solitaire", "platinum-band", "pearl-necklace",
                                       "gold-necklace", "gold-ring"}
    html = response.content.decode()
    assert "¥12,800" in html  # the derived price_from column, not a per-card pricing call
    assert "5 pieces" in html or "5 件" in html


def test_a_category_takes_in_its_children_and_shows_facets_and_a_removable_chip(client, shop):
    response = client.get(LIST, {"category": "rings", "sort": "price"})
    assert slugs_on(response) == ["gold-ring", "platinum-band", "diamond-solitaire"]
    html = response.content.decode()
    # Facets with counts; the category facet counts every category (its own filter aside).
    assert re.search(r'href="/products/\?category=necklaces&amp;sort=price"[^>]*>'
                     r'.*?(?:Necklaces|项链)', html, re.S)
    assert 'class="facet__count"' in html
    # The chip removes the category and keeps the sort.
    assert re.search(r'<a class="chip chip--remove" href="/products/\?sort=price">', html)


def test_filters_combine_and_each_facet_link_toggles_its_value(client, shop):
    response = client.get(LIST, {"material": ["pearl", "gold"], "sort": "-price"})
    assert slugs_on(response) == ["gold-necklace", "gold-ring", "pearl-necklace",
                                  "pearl-pendant"]
    html = response.content.decode()
    # Removing one material keeps the other.
    assert 'href="/products/?material=gold&amp;sort=-price"' in html
    response = client.get(LIST, {"price_min": "3000", "price_max": "9999"})
    assert set(slugs_on(response)) == {"platinum-band", "gold-ring"}
    assert set(slugs_on(client.get(LIST, {"collection": "bridal"}))) == {
        "diamond-solitaire", "platinum-band"}
    assert set(slugs_on(client.get(LIST, {"size": "45cm"}))) == {"pearl-necklace",
                                                                 "gold-necklace"}


def test_available_at_a_store_counts_shops_and_unreserved_pieces_only(client, shop):
    assert set(slugs_on(client.get(LIST, {"store": "bj"}))) == {"pearl-necklace", "gold-ring"}
    assert slugs_on(client.get(LIST, {"store": "sh"})) == ["diamond-solitaire"]
    html = client.get(LIST).content.decode()
    facet = html.split('id="facet-store"', 1)[1].split("</section>", 1)[0]
    assert "Central warehouse" not in facet and "中央仓" not in facet


@pytest.mark.parametrize("sort, expected", [
    ("price", ["pearl-pendant", "pearl-necklace", "gold-ring", "platinum-band",
               "diamond-solitaire", "gold-necklace"]),
    ("-price", ["gold-necklace", "diamond-solitaire", "platinum-band", "gold-ring",
                "pearl-necklace", "pearl-pendant"]),
])
def test_sorting_by_price(client, shop, sort, expected):
    assert slugs_on(client.get(LIST, {"sort": sort})) == expected


def test_newest_and_popular_sorting(client, shop):
    Product.objects.filter(slug="pearl-pendant").update(popularity=50)
    Product.objects.filter(slug="gold-necklace").update(popularity=20)
    assert slugs_on(client.get(LIST, {"sort": "popular"}))[:2] == ["pearl-pendant",
                                                                   "gold-necklace"]
    assert slugs_on(client.get(LIST))[0] == "gold-ring"  # newest first by default


@pytest.fixture
def many(shop):
    necklaces = Category.objects.get(slug="necklaces")
    for i in range(30):
        VariantFactory(product=ProductFactory(category=necklaces, slug=f"chain-{i:02d}"),
                       list_price=Decimal(100 + i))
    prices_refresh()
    product_search_refresh()
    return shop


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999", "9" * 40, "", "\x00"])
def test_bad_page_numbers_never_fail(client, many, page):
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert len(slugs_on(response)) in (24, 12)


def test_pagination_is_24_a_page_and_keeps_the_filters(client, many):
    first = client.get(LIST, {"category": "necklaces", "sort": "price"})
    assert len(slugs_on(first)) == 24
    html = first.content.decode()
    assert 'href="/products/?category=necklaces&amp;sort=price&amp;page=2" rel="next"' in html
    second = client.get(LIST, {"category": "necklaces", "sort": "price", "page": "2"})
    assert len(slugs_on(second)) == 8
    assert not set(slugs_on(first)) & set(slugs_on(second))


@pytest.mark.parametrize("query, left_out", [
    ({"category": "nope"}, "category"),
    ({"price_min": "abc"}, "price"),
    ({"sort": "cheapest"}, "sort"),
    ({"material": "plastic"}, "material"),
    ({"store": "nowhere"}, "store"),
    ({"collection": "x" * 500}, "collection"),
    ({"q": "戒指\x00"}, None),
    ({"size": "12\x00"}, None),
])
def test_invalid_filters_are_left_out_with_a_gentle_note(client, shop, query, left_out):
    response = client.get(LIST, query)
    assert response.status_code == 200
    html = response.content.decode()
    if left_out:
        assert "data-left-out" in html
        assert len(slugs_on(response)) == 6  # the filter was ignored
    else:
        assert "data-left-out" not in html


def test_invalid_and_valid_filters_together_keep_the_valid_one(client, shop):
    response = client.get(LIST, {"category": "rings", "price_max": "cheap"})
    assert set(slugs_on(response)) == {"diamond-solitaire", "platinum-band", "gold-ring"}
    assert "data-left-out" in response.content.decode()


def test_nothing_found_offers_a_way_on(client, shop):
    response = client.get(LIST, {"q": "翡翠手镯"})
    html = response.content.decode()
    assert slugs_on(response) == []
    assert "empty--list" in html
    assert 'href="/products/?category=rings"' in html  # categories to browse


# --- Search --------------------------------------------------------------------------------


@pytest.mark.parametrize("q, expected", [
    ("钻石戒指", {"diamond-solitaire"}),
    ("戒指", {"diamond-solitaire", "platinum-band", "gold-ring"}),
    ("pearl necklace", {"pearl-necklace"}),
    ("珍珠", {"pearl-necklace", "pearl-pendant"}),
])
def test_search_from_the_page(client, shop, q, expected):
    response = client.get(LIST, {"q": q})
    assert set(slugs_on(response)) == expected
    assert "data-correction" not in response.content.decode()


def test_a_typo_is_corrected_and_the_page_says_so(client, shop):
    response = client.get("/en/products/", {"q": "neckalce"})
    assert set(slugs_on(response)) == {"pearl-necklace", "gold-necklace"}
    assert "Showing results for “necklace”" in response.content.decode()


def test_best_match_is_offered_only_when_searching(client, shop):
    assert 'value="relevance"' not in client.get(LIST).content.decode()
    html = client.get(LIST, {"q": "pearl"}).content.decode()
    assert '<option value="relevance" selected>' in html


# --- Suggestions ---------------------------------------------------------------------------


def test_suggestions_answer_products_and_categories(client, shop):
    response = client.get(reverse("catalog:suggest"), {"q": "戒指"})
    assert response.status_code == 200
    body = response.json()
    assert {p["url"] for p in body["products"]} == {
        product_url(shop[s]) for s in ("diamond-solitaire", "platinum-band", "gold-ring")}
    first = body["products"][0]
    assert set(first) >= {"title", "url", "price_from", "thumb"}
    assert first["thumb"].endswith("placeholder.svg")  # no photo uploaded in the fixture
    assert [c["title"] for c in body["categories"]] == ["戒指", "婚戒"] or [
        c["url"] for c in body["categories"]][0] == "/products/?category=rings"


def test_suggestions_are_at_most_six_products_and_three_categories(client, many):
    body = client.get(reverse("catalog:suggest"), {"q": "plain"}).json()
    assert len(body["products"]) == 6
    assert len(body["categories"]) <= 3


def test_suggestions_follow_the_language_and_correct_typos(client, shop):
    body = client.get("/en/search/suggest", {"q": "neckalce"}).json()
    assert {p["title"] for p in body["products"]} == {"Pearl necklace", "Gold necklace"}
    assert body["corrected"] == "necklace"


def test_empty_suggestions_and_cached_answers(client, shop, django_assert_max_num_queries):
    assert client.get(reverse("catalog:suggest")).json()["products"] == []
    client.get(reverse("catalog:suggest"), {"q": "珍珠"})
    with django_assert_max_num_queries(0):
        client.get(reverse("catalog:suggest"), {"q": "珍珠"})


# --- The product page ----------------------------------------------------------------------


def test_the_product_page_embeds_every_variant_with_its_price_and_stock(client, shop):
    response = client.get(product_url(shop["diamond-solitaire"]))
    assert response.status_code == 200
    data = variant_data(response)
    by_sku = {v["sku"]: v for v in data["variants"]}
    assert set(by_sku) == {"DIAMOND-SOLI-10", "DIAMOND-SOLI-12"}
    ten = by_sku["DIAMOND-SOLI-10"]
    assert ten["price"] == "¥12,800" and ten["priced"]
    assert by_sku["DIAMOND-SOLI-12"]["price"] == "¥13,800"
    # Shops with a piece available: not the warehouse, not Beijing (all reserved).
    assert [s["name"] for s in ten["stores"]] == ["上海南京西路店"]
    assert ten["stores"][0]["city"] == "上海"
    assert ten["certificates"][0]["number"] == "2141438171"
    assert "0.5 ct" in ten["certificates"][0]["details"]
    assert by_sku["DIAMOND-SOLI-12"]["stores"] == []
    assert data["current"] == "DIAMOND-SOLI-10"


def test_a_by_weight_piece_explains_its_price(client, shop):
    response = client.get("/en" + product_url(shop["gold-ring"]), {"variant": "GOLD-RING-12"})
    data = variant_data(response)
    by_sku = {v["sku"]: v for v in data["variants"]}
    # 6 g x 780/g + 280 = 4,960
    assert by_sku["GOLD-RING-12"]["price"] == "¥4,960"
    assert by_sku["GOLD-RING-12"]["explanation"] == (
        "6 g × ¥780/g today + ¥280 labour = ¥4,960")
    assert data["current"] == "GOLD-RING-12"
    html = response.content.decode()
    assert "6 g × ¥780/g today + ¥280 labour = ¥4,960" in html  # rendered server-side too
    assert "Beijing" in html


def test_a_variant_that_cannot_be_priced_says_why_and_cannot_be_bought(client, shop):
    response = client.get("/en" + product_url(shop["gold-ring"]), {"variant": "GOLD-RING-K18"})
    data = variant_data(response)
    k18 = {v["sku"]: v for v in data["variants"]}["GOLD-RING-K18"]
    assert not k18["priced"] and k18["price"] == ""
    assert "cannot be sold yet" in k18["reason"]
    html = response.content.decode()
    assert "cannot be sold yet" in html
    assert re.search(r'<a[^>]*data-variant-buy[^>]*aria-disabled="true"', html)


def test_the_picker_links_each_option_to_a_variant(client, shop):
    html = client.get(product_url(shop["gold-ring"])).content.decode()
    # Sizes 10 and 12, metals 999 and 750: one row of buttons each.
    assert 'data-option="size" data-value="10"' in html
    assert 'data-option="metal"' in html
    assert 'href="?variant=GOLD-RING-12"' in html


def test_an_unknown_variant_falls_back_and_an_unknown_product_is_404(client, shop):
    response = client.get(product_url(shop["gold-ring"]), {"variant": "NOPE"})
    assert variant_data(response)["current"] == "GOLD-RING-10"
    assert client.get("/products/no-such-piece/").status_code == 404
    products_set_active(product_ids=[shop["gold-ring"].pk], active=False)
    assert client.get(product_url(shop["gold-ring"])).status_code == 404


def test_booking_and_store_links_appear_when_the_stores_pages_exist(client, shop):
    html = client.get(product_url(shop["diamond-solitaire"])).content.decode()
    book = reverse("stores:appointment_book")
    assert f'href="{book}?product=diamond-solitaire' in html
    assert f'href="{reverse("stores:detail", kwargs={"code": "sh"})}"' in html


RECENT = "/recently-viewed/"


def visit(client, product, **extra):
    """What a browser does on a product page: load it, then (catalog.js) say it was seen."""
    assert client.get(product_url(product), **extra).status_code == 200
    return client.post(RECENT, {"seen": product.pk}, HTTP_X_REQUESTED_WITH="fetch", **extra)


def recent_slugs(html: str) -> list[str]:
    recent = html.split("data-recently-viewed", 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="/products/([\w-]+)/"', recent)


def test_a_view_is_announced_for_analytics(client, shop, member):
    heard = []

    def listener(sender, **kwargs):
        heard.append((sender, kwargs))

    product_viewed.connect(listener)
    try:
        visit(client, shop["pearl-pendant"])  # a first visit: no session yet
        visit(client, shop["gold-ring"])
        session_key = client.cookies["sessionid"].value
        client.force_login(member)
        visit(client, shop["pearl-pendant"])
        client.get(product_url(shop["gold-ring"]))  # the page alone announces nothing
    finally:
        product_viewed.disconnect(listener)
    (sender, first), (_, second), (_, third) = heard
    assert sender is Product
    assert first["product_id"] == shop["pearl-pendant"].pk
    assert first["user"] is None and first["session_key"] == ""
    assert second["user"] is None and second["session_key"] == session_key
    assert third["user"] == member


# --- Recently viewed ---------------------------------------------------------------------


def test_recently_viewed_pieces_are_fetched_after_product_and_list_pages(client, shop):
    for slug in ("pearl-pendant", "gold-ring", "pearl-necklace"):
        visit(client, shop[slug])
    page = client.get(product_url(shop["gold-necklace"])).text
    assert f'data-recent="{RECENT}" data-seen="{shop["gold-necklace"].pk}"' in page
    assert "data-recently-viewed" not in page  # the page is the same for every visitor
    answer = visit(client, shop["gold-necklace"])
    assert answer["Cache-Control"] == "no-store"
    assert recent_slugs(answer.text) == ["pearl-necklace", "gold-ring", "pearl-pendant"]
    assert f'data-recent="{RECENT}"></div>' in client.get(LIST).text
    listed = client.post(RECENT, HTTP_X_REQUESTED_WITH="fetch").text
    assert recent_slugs(listed)[0] == "gold-necklace"
    english = client.post("/en" + RECENT, HTTP_X_REQUESTED_WITH="fetch").text
    assert "Recently viewed" in english


def test_recently_viewed_keeps_eight_and_excludes_the_current_piece(client, many):
    chains = list(Product.objects.filter(slug__startswith="chain-").order_by("slug")[:10])
    for product in chains:
        visit(client, product)
    assert client.session["catalog:recently_viewed"] == [p.pk for p in reversed(chains)][:8]
    recent = visit(client, chains[-1]).text
    assert chains[-1].slug not in recent_slugs(recent)
    assert len(re.findall(r'class="product-card"', recent)) == 7


def test_recently_viewed_refuses_other_sites_and_unknown_pieces(client, shop):
    assert client.post(RECENT, {"seen": shop["gold-ring"].pk}).status_code == 400  # no header
    assert client.get(RECENT, HTTP_X_REQUESTED_WITH="fetch").status_code == 405
    for seen in ("abc", "999999", "-1", "²"):
        answer = client.post(RECENT, {"seen": seen}, HTTP_X_REQUESTED_WITH="fetch")
        assert answer.status_code == 404
    assert "catalog:recently_viewed" not in client.session
    assert client.post(RECENT, HTTP_X_REQUESTED_WITH="fetch").text == ""  # nothing seen yet


def test_recently_viewed_is_one_query(client, shop, django_assert_num_queries):
    from catalog import selectors

    ids = [shop[s].pk for s in ("gold-ring", "pearl-pendant", "platinum-band")]
    with django_assert_num_queries(1):
        products = selectors.products_by_ids(ids)
    assert [p.pk for p in products] == ids


# --- Affinities ------------------------------------------------------------------------


def test_often_viewed_and_bought_together_show_the_top_four(client, shop, many,
                                                            django_assert_num_queries):
    from catalog import selectors

    ring = shop["diamond-solitaire"]
    chains = list(Product.objects.filter(slug__startswith="chain-").order_by("slug"))
    product_affinities_replace(kind="viewed", pairs={
        (ring.pk, chain.pk): 100 - i for i, chain in enumerate(chains[:6])})
    product_affinities_replace(kind="bought", pairs={
        (ring.pk, shop["platinum-band"].pk): 9, (ring.pk, shop["pearl-pendant"].pk): 3})
    products_set_active(product_ids=[chains[0].pk], active=False)
    with django_assert_num_queries(1):
        found = selectors.product_affinities(ring.pk)
    assert [p.slug for p in found["viewed"]] == [c.slug for c in chains[1:5]]
    assert [p.slug for p in found["bought"]] == ["platinum-band", "pearl-pendant"]

    html = client.get(product_url(ring)).content.decode()
    viewed = html.split('id="pairs-viewed"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'href="/products/([\w-]+)/"', viewed) == [c.slug for c in chains[1:5]]
    assert 'id="pairs-bought"' in html


# --- Wishlist ----------------------------------------------------------------------------


def toggle_url(product) -> str:
    return reverse("catalog:wishlist_toggle", kwargs={"slug": product.slug})


def test_a_visitor_is_asked_to_sign_in_before_saving(client, shop):
    response = client.post(toggle_url(shop["pearl-pendant"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/products/pearl-pendant/" in response["Location"]
    assert not WishlistItem.objects.exists()
    assert client.get(reverse("catalog:wishlist")).status_code == 302


def test_saving_and_forgetting_are_idempotent(client, shop, member):
    client.force_login(member)
    pendant = shop["pearl-pendant"]
    for _ in range(2):
        response = client.post(toggle_url(pendant), {"wished": "1"})
        assert response.status_code == 302
        assert response["Location"] == product_url(pendant)
    assert WishlistItem.objects.filter(user=member, product=pendant).count() == 1
    page = client.get(product_url(pendant)).content.decode()
    assert 'aria-pressed="true"' in page
    for _ in range(2):
        response = client.post(toggle_url(pendant), {"wished": "0"},
                               HTTP_ACCEPT="application/json")
        assert response.json() == {"wished": False}
    assert not WishlistItem.objects.exists()
    assert client.get(toggle_url(pendant)).status_code == 405


def test_the_wishlist_page_lists_saved_pieces(client, shop, member):
    client.force_login(member)
    client.post(toggle_url(shop["pearl-pendant"]), {"next": reverse("catalog:wishlist")})
    client.post(toggle_url(shop["gold-ring"]), {"next": "https://evil.example/"})
    products_set_active(product_ids=[shop["gold-ring"].pk], active=False)
    response = client.get(reverse("catalog:wishlist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert product_url(shop["pearl-pendant"]) in html
    assert "product-card--gone" in html  # taken off sale: still listed, not linked
    assert client.post(toggle_url(shop["gold-ring"]), {"wished": "0"}).status_code == 302
    assert client.post(toggle_url(shop["gold-ring"]), {"wished": "1"}).status_code == 404


# --- Query budgets and the page cache ------------------------------------------------------


def test_list_query_budget_does_not_grow_with_the_page(client, shop,
                                                       django_assert_max_num_queries):
    """Cold: the category menu, the count, the page of cards (pictures and all) and one
    GROUP BY per facet (catalog.facets). Warm: nothing."""
    from django.core.cache import cache

    with django_assert_max_num_queries(11) as five:
        assert len(slugs_on(client.get(LIST))) == 6
    necklaces = Category.objects.get(slug="necklaces")
    for i in range(30):
        VariantFactory(product=ProductFactory(category=necklaces), list_price=Decimal(100 + i))
    prices_refresh()
    cache.clear()
    with django_assert_max_num_queries(11) as full:
        assert len(slugs_on(client.get(LIST))) == 24
    assert len(full) == len(five)
    with django_assert_max_num_queries(0):  # warm: the grid and facets come from the cache
        client.get(LIST)
    with django_assert_max_num_queries(2):  # another page or order: the facets are reused
        client.get(LIST, {"page": "2"})
    with django_assert_max_num_queries(2):
        client.get(LIST, {"sort": "price"})


def test_a_search_for_one_word_costs_the_same_whatever_it_finds(
        client, shop, django_assert_max_num_queries):
    """Cold: the vocabulary, the word's kept counts (facets, shops, total), the page's
    ids in best-match order, their cards, the labels, the shops, the menu: nothing
    counted over the matches, so 30 more matches cost nothing more."""
    from django.core.cache import cache

    with django_assert_max_num_queries(7) as few:
        assert slugs_on(client.get(LIST, {"q": "戒指"}))
    rings = Category.objects.get(slug="rings")
    for i in range(30):
        VariantFactory(product=ProductFactory(category=rings, name=f"钻石戒指{i}"),
                       list_price=Decimal(100 + i))
    product_search_refresh()
    prices_refresh()
    cache.clear()
    with django_assert_max_num_queries(7) as many:
        response = client.get(LIST, {"q": "戒指"})
    assert len(slugs_on(response)) == 24 and "共 33 件" in response.content.decode()
    assert len(many) == len(few)
    assert not any("LIKE" in q["sql"] or "COUNT(" in q["sql"] for q in many)


def test_list_query_budget_with_every_filter(client, shop, django_assert_max_num_queries):
    query = {"q": "ring", "category": "rings", "collection": "bridal", "material": "diamond",
             "metal": "gold", "size": "10", "price_min": "1", "price_max": "99999",
             "store": "sh", "sort": "price", "page": "1"}
    # + the category, collection and store looked up, the category tree, the vocabulary
    with django_assert_max_num_queries(16):
        client.get(LIST, query)
    with django_assert_max_num_queries(0):
        client.get(LIST, query)


def test_product_page_query_budget_does_not_grow_with_variants_or_stores(
        client, shop, django_assert_max_num_queries):
    """Cold: menu, product, variants, certificates, images, rates, stock, affinities (8),
    plus the session's own row (cached_db sessions write it to the database too).
    Warm: nothing."""
    from django.core.cache import cache

    single = shop["pearl-pendant"]
    with django_assert_max_num_queries(12) as one:
        client.get(product_url(single))
    cache.clear()
    stores = [shop["stores"]["sh"], shop["stores"]["bj"]] + [StoreFactory() for _ in range(3)]
    for size in ("40cm", "42cm", "45cm", "50cm", "55cm"):
        variant = VariantFactory(product=single, size=size, list_price=Decimal("880"))
        for store in stores:
            StockLevelFactory(store=store, variant=variant)
        Certificate.objects.create(variant=variant, lab="NGTC", number=f"N-{size}")
    products_changed(product_ids=[single.pk])
    with django_assert_max_num_queries(12) as six:
        response = client.get(product_url(single))
    data = variant_data(response)
    assert len(data["variants"]) == 6
    assert max(len(v["stores"]) for v in data["variants"]) == 5
    assert len(not_session(six)) == len(not_session(one)) == 8
    with django_assert_max_num_queries(0):  # warm, same visitor, same piece
        client.get(product_url(single))


def test_a_members_product_page_adds_only_the_heart(client, shop, member,
                                                    django_assert_max_num_queries):
    client.force_login(member)
    url = product_url(shop["diamond-solitaire"])
    client.get(url)
    with django_assert_max_num_queries(3) as warm:  # the user, the session, the heart
        client.get(url)
    assert any("catalog_wishlistitem" in q["sql"] for q in warm)


@pytest.mark.parametrize("page", ["/", "/en/", LIST, f"{LIST}?q=ring", "product"])
def test_a_signed_in_members_pages_cost_at_most_four_queries(client, shop, member, page,
                                                              django_assert_max_num_queries):
    """The catalog's parts come from the shared fragments; what is the member's own (the
    header, the bag, the heart) costs the user once, the session at most once, the bag and
    the heart. The member has a bag with two pieces and a wishlist."""
    from orders.models import Cart
    from orders.services.cart import cart_add

    bag = Cart.objects.create(member=member)
    for sku in ("DIAMOND-SOLI-10", "GOLD-RING-12"):  # one fixed price, one by weight
        cart_add(cart=bag, variant=Variant.objects.get(sku=sku))
    for slug in ("diamond-solitaire", "pearl-pendant"):
        WishlistItem.objects.create(user=member, product=shop[slug])
    client.force_login(member)
    url = product_url(shop["diamond-solitaire"]) if page == "product" else page
    assert client.get(url).status_code == 200  # another visitor warmed the fragments
    with django_assert_max_num_queries(4) as warm:
        response = client.get(url)
    assert response.status_code == 200 and "X-Page-Cache" not in response
    sqls = [query["sql"] for query in warm]
    assert sum('FROM "members_user"' in sql for sql in sqls) <= 1
    assert sum('FROM "django_session"' in sql for sql in sqls) <= 1


def test_a_price_change_shows_at_once(client, shop, django_capture_on_commit_callbacks):
    url = product_url(shop["pearl-pendant"])
    assert "¥680" in client.get(url).content.decode()
    assert "¥680" in client.get(LIST).content.decode()
    variant = shop["pearl-pendant"].variants.get()
    variant.list_price = Decimal("777")
    variant.save()
    with django_capture_on_commit_callbacks(execute=True):
        products_changed(product_ids=[variant.product_id])
    assert "¥777" in client.get(url).content.decode()
    assert "¥777" in client.get(LIST).content.decode()


def test_a_new_metal_rate_reprices_gold_at_once(client, shop, django_capture_on_commit_callbacks):
    url = "/en" + product_url(shop["gold-ring"])
    assert "¥4,180" in client.get(url).content.decode()  # 5 g x 780 + 280
    # The rate schedules a Celery refresh on commit; the test runs the refresh itself.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("800.00"))
    assert callbacks
    with django_capture_on_commit_callbacks(execute=True):
        prices_refresh(reason="metal_rate")
    html = client.get(url).content.decode()
    assert "¥4,280" in html  # 5 g x 800 + 280
    assert "5 g × ¥800/g today" in html


def test_stock_and_activation_changes_show_at_once(client, shop,
                                                   django_capture_on_commit_callbacks):
    from stores.services import stock_receive

    pendant = shop["pearl-pendant"]
    url = product_url(pendant)
    assert variant_data(client.get(url))["variants"][0]["stores"] == []
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(store=shop["stores"]["sh"], variant=pendant.variants.get(), quantity=2)
    stores = variant_data(client.get(url))["variants"][0]["stores"]
    assert [s["name"] for s in stores] == ["上海南京西路店"]
    assert "pearl-pendant" in slugs_on(client.get(LIST))
    with django_capture_on_commit_callbacks(execute=True):
        products_set_active(product_ids=[pendant.pk], active=False)
    assert client.get(url).status_code == 404
    assert "pearl-pendant" not in slugs_on(client.get(LIST))


def test_attribute_values_and_the_certificate_promise_follow_the_piece(client, shop):
    shop["diamond-solitaire"].style = "solitaire"
    shop["diamond-solitaire"].save()
    chinese = client.get(product_url(shop["diamond-solitaire"])).content.decode()
    assert "单钻" in chinese and "Solitaire" not in chinese  # the style, in Chinese
    assert "切工 极好" in chinese and "Excellent" not in chinese  # the cut grade too
    assert "附实验室证书" in chinese
    with translation.override("en"):
        english = client.get(product_url(shop["diamond-solitaire"])).content.decode()
    assert "Solitaire" in english and "cut Excellent" in english
    # A plain gold ring has no certificate, and no page says it has one.
    gold = client.get(product_url(shop["gold-ring"])).content.decode()
    assert "附实验室证书" not in gold


def test_with_no_history_a_product_page_offers_pieces_of_its_category(client, shop):
    # No insights yet (a new shop): the page still shows same-category pieces.
    with translation.override("en"):
        page = client.get(product_url(shop["diamond-solitaire"])).content.decode()
    assert "More Rings" in page
    related = page[page.index('id="pairs-related"'):]
    related = related[:related.index("</section>")]
    assert "/en/products/gold-ring/" in related  # same category
    assert "/en/products/pearl-pendant/" not in related  # another one
    assert "/en/products/diamond-solitaire/" not in related  # not itself
