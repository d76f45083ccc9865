"""Search: Chinese and English queries, typos, ranking, on real PostgreSQL."""

import pytest

from catalog.models import Category, Collection, Product
from catalog.search import parse_query, search_filter, segment_chinese
from catalog.services import product_search_refresh

from .factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings")
    diamond_rings = Category.objects.create(name="钻石戒指", name_en="Diamond rings",
                                            slug="diamond-rings", parent=rings)
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces")
    bridal = Collection.objects.create(name="婚嫁", name_en="Bridal", slug="bridal")
    products = {
        "solitaire": ProductFactory(name="18K金钻石求婚戒", name_en="18K gold diamond solitaire",
                                    category=diamond_rings, material="diamond", gemstone="diamond"),
        "band": ProductFactory(name="铂金素圈对戒", name_en="Platinum plain wedding bands",
                               category=rings, material="platinum"),
        "pearl": ProductFactory(name="南洋金珠项链", name_en="South Sea golden pearl necklace",
                                category=necklaces, material="pearl", gemstone="pearl"),
        "chain": ProductFactory(name="古法金锁骨链", name_en="Heritage gold collarbone chain",
                                category=necklaces, material="gold", tags=["古法"]),
    }
    products["solitaire"].collections.add(bridal)
    for product in products.values():
        VariantFactory(product=product)
    product_search_refresh()
    return products


def search(text):
    return set(search_filter(Product.objects.all(), parse_query(text))
               .values_list("slug", flat=True))


def slugs(catalog, *names):
    return {catalog[name].slug for name in names}


def test_chinese_words_are_found_apart_from_each_other(catalog):
    # 钻石 is in the name, 戒指 only in the category path
    assert search("钻石戒指") == slugs(catalog, "solitaire")


def test_a_chinese_category_word_finds_everything_in_it(catalog):
    assert search("戒指") == slugs(catalog, "solitaire", "band")
    assert search("项链") == slugs(catalog, "pearl", "chain")


def test_chinese_material_words(catalog):
    assert search("珍珠") == slugs(catalog, "pearl")
    assert search("铂金") == slugs(catalog, "band")


def test_english_words_in_any_order_and_case(catalog):
    assert search("pearl necklace") == slugs(catalog, "pearl")
    assert search("Necklace Pearl") == slugs(catalog, "pearl")
    assert search("necklaces") == slugs(catalog, "pearl", "chain")


def test_a_typo_is_corrected_to_a_catalog_word(catalog):
    parsed = parse_query("neckalce")
    assert parsed.corrections == {"neckalce": "necklace"}
    assert search("neckalce") == slugs(catalog, "pearl", "chain")
    assert search("pearl neckalce") == slugs(catalog, "pearl")


def test_mixed_chinese_and_english(catalog):
    assert search("bridal 钻石") == slugs(catalog, "solitaire")


def test_no_match_is_an_empty_result_not_an_error(catalog):
    assert search("手表") == set()
    assert search("zzzzqqq") == set()
    assert search("'; drop table catalog_product; --") == set()
    assert Product.objects.count() == 4


def test_empty_and_punctuation_queries_change_nothing(catalog):
    assert search("") == set(Product.objects.values_list("slug", flat=True))
    assert parse_query("!!! ，。").terms == ()


def test_the_name_ranks_before_the_category(catalog):
    ranked = list(search_filter(Product.objects.all(), parse_query("钻石"))
                  .order_by("-search_rank").values_list("slug", flat=True))
    assert ranked[0] == catalog["solitaire"].slug


def test_segmentation_keeps_unknown_characters_together():
    words = frozenset({"钻石", "戒指", "黄金"})
    assert segment_chinese("钻石戒指", words) == ["钻石", "戒指"]
    assert segment_chinese("福字黄金手镯", words) == ["福字", "黄金", "手镯"]
    assert segment_chinese("戒", words) == ["戒"]
