"""The list's facet counts are kept, not counted (catalog.facet_counts, catalog.floor), and
every count shown is what choosing that value shows: checked value by value against the
filter, on the unfiltered list, a search and a filtered list, after each kind of write
that changes them (publish, unpublish, a price edit, an attribute edit, a new metal rate,
the sale of a last piece)."""

from decimal import Decimal

import pytest
from django.http import QueryDict

from catalog.facet_counts import facet_totals_recount, facets_reconcile, facets_refresh
from catalog.facets import OWN_FILTERS, product_facets, text_facets, word_counts
from catalog.filters import ProductFilter
from catalog.floor import floor_rebuild, floor_reconcile
from catalog.models import Category, Collection, FacetCount, Product
from catalog.services import (
    prices_refresh,
    product_search_refresh,
    products_changed,
    products_set_active,
)
from stores.models import ReservationPurpose
from stores.services.stock import stock_reserve
from tests.stores.factories import StockLevelFactory, StoreFactory

from .factories import ByWeightVariantFactory, MetalRateFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

QUERIES = ["", "q=ring", "q=戒指", "q=项链", "q=戒指&sort=price", "material=gold", "category=rings&size=12", "q=ring&store=sh",
           "metal=gold&price_min=3000&price_max=9999", "collection=bridal&gemstone=diamond"]


@pytest.fixture
def shelf():
    """Three levels of categories, an inactive collection and variant, an unpublished
    piece, fixed and by-weight prices in every band, the last pieces at two shops."""
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings")
    bands = Category.objects.create(name="对戒", name_en="Bands", slug="bands", parent=rings)
    plain = Category.objects.create(name="素圈", name_en="Plain bands", slug="plain",
                                    parent=bands)
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces")
    bridal = Collection.objects.create(name="婚嫁", name_en="Bridal", slug="bridal")
    retired = Collection.objects.create(name="旧款", name_en="Retired", slug="retired",
                                        is_active=False)
    shanghai, beijing = StoreFactory(code="sh"), StoreFactory(code="bj")
    MetalRateFactory(metal="gold", purity="999", rate_per_gram=Decimal("780.00"))
    made = {}
    for slug, name, category, material, gem, price, sizes, metal in [
        ("solitaire", "Solitaire ring", rings, "diamond", "diamond", "12800", ["10", "12"], "platinum"),
        ("band", "Platinum band ring", bands, "platinum", "", "4600", ["12", "14"], "platinum"),
        ("plain", "Plain gold ring", plain, "gold", "", None, ["12"], "gold"),
        ("pearl", "Pearl necklace", necklaces, "pearl", "pearl", "2600", ["45cm"], ""),
        ("chain", "Gold necklace", necklaces, "gold", "", "36000", ["40cm", "45cm"], "gold"),
    ]:
        product = ProductFactory(slug=slug, name=name, name_en=name, category=category,
                                 material=material, gemstone=gem)
        for size in sizes:
            if price is None:
                ByWeightVariantFactory(product=product, size=size)  # 5.23 g x 780 + 280
            else:
                VariantFactory(product=product, size=size, list_price=Decimal(price),
                               metal=metal)
        made[slug] = product
    # An inactive variant's metal and size are no choice: the filters ignore it.
    VariantFactory(product=made["pearl"], size="99", metal="silver", is_active=False)
    hidden = ProductFactory(slug="hidden", name="Hidden ring", category=rings,
                            material="silver", is_active=False)
    VariantFactory(product=hidden, size="16")
    made["solitaire"].collections.add(bridal, retired)
    made["band"].collections.add(bridal)
    StockLevelFactory(store=shanghai, variant=made["solitaire"].variants.first(), on_hand=1)
    StockLevelFactory(store=shanghai, variant=made["band"].variants.first(), on_hand=2)
    StockLevelFactory(store=beijing, variant=made["chain"].variants.first(), on_hand=1)
    products_changed(product_ids=[p.pk for p in made.values()])  # collections and all
    product_search_refresh()
    return made


def _filterset(data: QueryDict) -> ProductFilter:
    filterset = ProductFilter(data, queryset=Product.objects.active())
    assert filterset.is_valid(), filterset.errors
    return filterset


def _chosen(query: str, facet: str, value: str) -> QueryDict:
    """``query`` with ``facet``'s own filter replaced by ``value`` (what its link counts)."""
    data = QueryDict(query, mutable=True)
    for name in OWN_FILTERS.get(facet, (facet,)):
        data.pop(name, None)
    if facet == "price":
        low, _sep, high = value.partition("-")
        data.update({"price_min": low} if low else {})
        data.update({"price_max": high} if high else {})
    else:
        data[facet] = value
    return data


def assert_counts_are_what_filtering_shows(query: str) -> dict[str, dict[str, int]]:
    shown = {facet.name: {v.value: v.count for v in facet.values}
             for facet in product_facets(_filterset(QueryDict(query)))}
    for facet, values in shown.items():
        for value, count in values.items():
            found = _filterset(_chosen(query, facet, value)).qs.count()
            assert count == found, (query, facet, value, count, found)
    return shown


def assert_all_exact() -> dict[str, dict[str, int]]:
    for query in QUERIES:
        shown = assert_counts_are_what_filtering_shows(query)
        if not query:
            unfiltered = shown
    assert facets_reconcile() == 0
    assert floor_reconcile() == 0
    return unfiltered


def test_every_count_is_what_choosing_it_shows(shelf):
    shown = assert_all_exact()
    assert shown["category"] == {"rings": 3, "bands": 2, "plain": 1, "necklaces": 2}
    assert shown["collection"] == {"bridal": 2}  # the retired collection is no choice
    assert shown["metal"] == {"platinum": 2, "gold": 2}  # silver: an inactive variant's
    assert "99" not in shown["size"] and "16" not in shown["size"]
    assert shown["price"] == {"-2999": 1, "3000-9999": 2, "10000-29999": 1, "30000-": 1}
    assert shown["store"] == {"sh": 2, "bj": 1}
    # Some values are empty under a filter: still exact (checked above), and left out.
    pearls = assert_counts_are_what_filtering_shows("material=pearl")
    assert pearls["category"] == {"necklaces": 1}


def test_counts_follow_publish_and_unpublish(shelf):
    products_set_active(product_ids=[shelf["band"].pk], active=False)
    shown = assert_all_exact()
    assert shown["category"] == {"rings": 2, "plain": 1, "bands": 1, "necklaces": 2}
    assert shown["store"] == {"sh": 1, "bj": 1}
    hidden = Product.objects.get(slug="hidden")
    products_set_active(product_ids=[shelf["band"].pk, hidden.pk], active=True)
    shown = assert_all_exact()
    assert shown["category"]["rings"] == 4
    assert shown["material"]["silver"] == 1


def test_counts_follow_price_and_attribute_edits(shelf):
    variant = shelf["pearl"].variants.get(is_active=True)
    variant.list_price = Decimal("5000")
    variant.save()
    chain = shelf["chain"]
    chain.material, chain.gemstone, chain.category = "k18", "ruby", shelf["band"].category
    chain.save()
    chain.variants.filter(size="40cm").update(size="42cm", metal="")
    chain.collections.add(Collection.objects.get(slug="bridal"))
    products_changed(product_ids=[shelf["pearl"].pk, chain.pk])
    shown = assert_all_exact()
    assert shown["price"] == {"3000-9999": 3, "10000-29999": 1, "30000-": 1}
    assert shown["material"]["k18"] == 1 and shown["gemstone"]["ruby"] == 1
    assert shown["size"]["42cm"] == 1 and "40cm" not in shown["size"]
    assert shown["collection"] == {"bridal": 3}
    assert shown["category"]["bands"] == 3


def test_a_new_metal_rate_moves_a_piece_into_another_price_band(shelf):
    assert assert_all_exact()["price"]["3000-9999"] == 2  # 5.23 g x 780 + 280 = 4,359
    MetalRateFactory(metal="gold", purity="999", rate_per_gram=Decimal("2000.00"))
    prices_refresh(reason="metal_rate")  # 5.23 g x 2,000 + 280 = 10,740
    shown = assert_all_exact()
    assert shown["price"]["3000-9999"] == 1
    assert shown["price"]["10000-29999"] == 2


def test_the_sale_of_a_last_piece_counts_at_once(shelf):
    stock_reserve(store=StoreFactory(code="bj"), variant=shelf["chain"].variants.first(),
                  quantity=1, expires_at=None, purpose=ReservationPurpose.ORDER,
                  reference="test")
    shown = assert_all_exact()
    assert shown["store"] == {"sh": 2}
    assert "bj" not in assert_counts_are_what_filtering_shows("q=ring").get("store", {})


def test_reconcile_finds_and_fixes_wrong_kept_counts(shelf):
    FacetCount.objects.filter(facet="material", value="gold").update(products=40)
    Product.objects.filter(pk=shelf["pearl"].pk).update(material="silver")  # past the services
    assert facets_reconcile() == 3  # the total, the pearl's row gone and its new one
    assert facets_reconcile() == 0
    shown = assert_all_exact()
    assert shown["material"] == {"diamond": 1, "platinum": 1, "gold": 2, "silver": 1}


def test_a_deleted_product_leaves_the_totals(shelf):
    chain = shelf["chain"].pk
    shelf["chain"].delete()
    facet_totals_recount()  # as the admin's delete does
    floor_rebuild(product_ids=[chain])
    assert assert_all_exact()["category"]["necklaces"] == 1


def test_the_unfiltered_facets_read_kept_totals(shelf, django_assert_num_queries):
    # The totals, then the categories and collections: whatever the catalog's size.
    with django_assert_num_queries(2):
        text_facets(_filterset(QueryDict("")))
    FacetCount.objects.filter(facet="material", value="gold").update(products=40)
    material = next(f for f in text_facets(_filterset(QueryDict(""))) if f.name == "material")
    assert {v.value: v.count for v in material.values}["gold"] == 40  # only the kept row knows


def test_a_filtered_list_counts_every_facet_in_one_query(shelf, django_assert_num_queries):
    filterset = _filterset(QueryDict("q=ring&category=rings&collection=bridal&material=diamond"
                                     "&gemstone=diamond&metal=platinum&size=12&price_min=1"
                                     "&price_max=99999&store=sh"))
    assert list(filterset.qs)  # (the category tree read once, as the page's grid does)
    # Every facet's own filter given: seven groups in one UNION ALL, then the labels.
    with django_assert_num_queries(2):
        facets = text_facets(filterset)
    assert {f.name for f in facets} == set(OWN_FILTERS)


@pytest.mark.django_db(transaction=True)
def test_parallel_edits_and_publishing_of_the_same_products_leave_exact_counts():
    from tests.concurrency import race

    rings = Category.objects.create(name="戒指", name_en="Rings", slug="race-rings")
    products = [ProductFactory(slug=f"race-facets-{i}", category=rings) for i in range(3)]
    for product in products:
        VariantFactory(product=product, size="12", list_price=Decimal("5000"))
    ids = [p.pk for p in products]
    materials = ["gold", "platinum", "pearl", "jade"]

    def work(i):
        for round_ in range(8):  # rounds, so that the refreshes do overlap
            if (i + round_) % 3 == 2:  # publish or unpublish (facets' lock, then the floor's)
                products_set_active(product_ids=ids, active=bool((i + round_) % 2))
                continue
            edited = ids[(i + round_) % 2:]  # overlapping sets of products
            Product.objects.filter(pk__in=edited).update(material=materials[(i + round_) % 4])
            facets_refresh(product_ids=edited)
        return i

    _done, errors = race(6, work)
    assert not errors
    assert facets_reconcile() == 0
    assert floor_reconcile() == 0


def test_the_search_vocabulary_is_kept_with_the_catalog(shelf):
    from catalog.cache import _bump
    from catalog.search import _loaded, vocabulary

    def words():
        _bump()  # (the services move the version after commit; a test never commits)
        _loaded.clear()
        return vocabulary()

    assert {"solitaire", "ring", "necklace"} <= words().latin
    assert "戒指" in words().chinese
    products_set_active(product_ids=[shelf["solitaire"].pk], active=False)
    assert "solitaire" not in words().latin and "ring" in words().latin
    band = shelf["band"]
    band.name_en = "Platinum eternity ring"
    band.save()
    products_changed(product_ids=[band.pk])
    assert "eternity" in words().latin and "platinum" in words().latin
    products_set_active(product_ids=[shelf["pearl"].pk, shelf["chain"].pk], active=False)
    assert "necklace" not in words().latin and "项链" not in words().chinese
    assert facets_reconcile() == 0


def test_a_search_for_one_catalog_word_reads_its_kept_counts(shelf, django_assert_num_queries):
    """戒指 (the rings' category) finds three pieces: its facets, shops and total are read
    from the word's kept counts in one query (and match what filtering shows, above)."""
    filterset = _filterset(QueryDict("q=戒指"))
    assert filterset.qs.count() == 3  # (the words parsed, as the page's grid does)
    with django_assert_num_queries(1):
        kept = word_counts(filterset)
        assert word_counts(filterset) is kept  # read once
    assert kept[""][""] == 3
    assert kept["material"] == {"diamond": 1, "platinum": 1, "gold": 1}
    shops = {s.pk: s.code for s in StoreFactory._meta.model.objects.all()}
    assert {shops[int(pk)]: n for pk, n in kept["store"].items()} == {"sh": 2}
    # Anything more than the one word is counted over the matches, as before.
    assert word_counts(_filterset(QueryDict("q=戒指&material=gold"))) is None
    assert word_counts(_filterset(QueryDict("q=ring"))) is None
    assert word_counts(_filterset(QueryDict("q=素圈 戒指"))) is None


def test_a_new_word_a_gone_word_and_a_moved_piece_keep_the_words_counts_exact(shelf):
    """A product whose name brings a word new to the catalog (its matches are found in
    every document), its stock coming and going, its unpublishing (the word goes)."""
    from catalog.models import WordFacetCount

    necklaces = Category.objects.get(slug="necklaces")
    new = ProductFactory(slug="jade", name="翡翠平安扣", name_en="Jade disc",
                         category=necklaces, material="jade")
    variant = VariantFactory(product=new, size="45cm", list_price=Decimal("8800"))
    products_changed(product_ids=[new.pk])
    product_search_refresh(product_ids=[new.pk])
    shown = assert_all_exact()
    assert shown["category"]["necklaces"] == 3
    assert_counts_are_what_filtering_shows("q=翡翠平安扣")
    assert word_counts(_filterset(QueryDict("q=项链")))[""][""] == 3
    StockLevelFactory(store=StoreFactory._meta.model.objects.get(code="bj"), variant=variant,
                      on_hand=1)
    floor_rebuild(product_ids=[new.pk])  # (a receipt's crossing, as the stock services do)
    assert_all_exact()
    assert assert_counts_are_what_filtering_shows("q=项链")["store"] == {"bj": 2}
    stock_reserve(store=StoreFactory._meta.model.objects.get(code="bj"), variant=variant,
                  quantity=1, expires_at=None, purpose=ReservationPurpose.ORDER,
                  reference="test")
    assert assert_counts_are_what_filtering_shows("q=项链")["store"] == {"bj": 1}
    assert_all_exact()
    products_set_active(product_ids=[new.pk], active=False)
    assert_all_exact()
    assert not WordFacetCount.objects.filter(word="翡翠平安扣").exists()
    assert word_counts(_filterset(QueryDict("q=项链")))[""][""] == 2


def test_a_search_for_one_word_pages_in_the_searchs_own_order(shelf, client):
    """The kept best-match order (the word in the name, popularity, newest) is the
    search's: page by page, after the names and the popularity change."""
    from catalog.selectors import WordMatches
    from catalog.services import product_popularity_set

    rings = Category.objects.get(slug="rings")
    for i in range(30):  # two pages; some with the word in the name, popularity ties
        product = ProductFactory(slug=f"ring-{i}", name="钻石戒指" if i % 3 else "钻石对戒",
                                 category=rings, material="gold")
        VariantFactory(product=product, size="12", list_price=Decimal(1000 + i))
    product_search_refresh()

    def searched() -> list[int]:
        return list(_filterset(QueryDict("q=戒指")).qs.values_list("pk", flat=True))

    def kept() -> list[int]:
        total = word_counts(_filterset(QueryDict("q=戒指")))[""][""]
        matches = WordMatches("戒指", total)
        return [p.pk for p in matches[0:24]] + [p.pk for p in matches[24:48]]

    assert len(searched()) == 33 and kept() == searched()
    ids = searched()
    product_popularity_set(scores={ids[-1]: 50, ids[-2]: 50, ids[5]: 7})
    assert kept() == searched() and kept()[:2] != ids[:2]
    assert facets_reconcile() == 0
    html = client.get("/products/?q=戒指&page=2").content.decode()
    assert html.count('class="product-card"') == 9
