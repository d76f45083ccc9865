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


# --- Word-aware English, pinyin and homophones (a pinyin keyboard's typos) ---------------


@pytest.fixture
def shelf():
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings")
    earrings = Category.objects.create(name="耳环", name_en="Earrings", slug="earrings")
    bangles = Category.objects.create(name="手镯", name_en="Bangles", slug="bangles")
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces")
    made = {
        "gold_ring": ProductFactory(name="足金素圈戒指", name_en="Plain gold ring",
                                    category=rings, material="gold"),
        "gold_earrings": ProductFactory(name="足金耳环", name_en="Gold hoop earrings",
                                        category=earrings, material="gold"),
        "diamond_ring": ProductFactory(name="铂金钻石戒指", name_en="Platinum diamond ring",
                                       category=rings, material="diamond", gemstone="diamond"),
        "jade": ProductFactory(name="翡翠手镯", name_en="Jadeite bangle", category=bangles,
                               material="jade", gemstone="jade"),
        "pearl": ProductFactory(name="珍珠项链", name_en="Pearl necklace", category=necklaces,
                                material="pearl", gemstone="pearl"),
    }
    for product in made.values():
        VariantFactory(product=product)
    product_search_refresh()
    return made


def ranked(text):
    return list(search_filter(Product.objects.all(), parse_query(text))
                .order_by("-search_rank", "id").values_list("slug", flat=True))


def test_gold_ring_lists_rings_not_earrings(shelf):
    found = ranked("gold ring")
    assert found == [shelf["gold_ring"].slug]  # "ring" inside "earrings" is no ring
    assert set(ranked("rings")) == {shelf["gold_ring"].slug, shelf["diamond_ring"].slug}
    assert set(ranked("earring")) == {shelf["gold_earrings"].slug}
    assert shelf["gold_ring"].slug in ranked("gold") and shelf["gold_earrings"].slug in ranked("gold")
    # A word start still finds: "neck" is the start of necklace.
    assert ranked("neck") == [shelf["pearl"].slug]
    # A whole word in the name ranks before a word found only in the category.
    assert ranked("diamond")[0] == shelf["diamond_ring"].slug


@pytest.mark.parametrize("typed, meant, piece", [
    ("翡翆", "翡翠", "jade"),          # a look-alike character with the same sound
    ("珍株", "珍珠", "pearl"),          # the pinyin keyboard's neighbour
    ("钻时戒指", "钻石", "diamond_ring"),
])
def test_chinese_typos_that_sound_right_find_the_piece(shelf, typed, meant, piece):
    parsed = parse_query(typed)
    assert meant in parsed.terms
    assert meant in "".join(parsed.corrections.values())
    assert shelf[piece].slug in ranked(typed)


@pytest.mark.parametrize("typed, piece", [
    ("feicui", "jade"), ("huangjin", "gold_ring"), ("zhenzhu", "pearl"),
    ("zuanshi jiezhi", "diamond_ring"), ("FeiCui", "jade"),
])
def test_pinyin_finds_the_chinese_words(shelf, typed, piece):
    parsed = parse_query(typed)
    assert parsed.corrections, parsed
    assert shelf[piece].slug in ranked(typed)


def test_an_english_catalog_word_is_never_read_as_pinyin(shelf):
    assert parse_query("pearl").terms == ("pearl",) and not parse_query("pearl").corrections


@pytest.mark.parametrize("text", ["。", "-", "!!", "💍", "１２", "ＧＯＬＤ", "…", "%", "\u3000"])
def test_queries_without_a_word_answer_pages_and_the_api_never_a_500(client, shelf, text):
    for url in ("/products/", "/en/products/", "/api/v1/products/", "/search/suggest"):
        response = client.get(url, {"q": text})
        assert response.status_code == 200, (url, text)
    response = client.get("/products/", {"q": text, "sort": "relevance"})
    assert response.status_code == 200


def test_full_width_letters_and_digits_search_as_ordinary_ones(shelf):
    assert parse_query("ＧＯＬＤ　ＲＩＮＧ").terms == ("gold", "ring")
    assert ranked("ＧＯＬＤ　ＲＩＮＧ") == ranked("gold ring")


# --- Certificates by number -------------------------------------------------------------


@pytest.fixture
def certified(shelf):
    from catalog.models import Certificate

    variant = shelf["diamond_ring"].variants.get()
    return Certificate.objects.create(variant=variant, lab="GIA", number="2141438171",
                                      carat="0.50", colour="F", clarity="VS1", cut="Excellent")


@pytest.mark.parametrize("typed", ["2141438171", "GIA 2141438171", "gia-2141438171",
                                   "２１４１４３８１７１", " 2141 438 171 "])
def test_the_search_box_opens_the_certificate_and_its_piece(client, certified, typed):
    response = client.get("/en/products/", {"q": typed})
    assert response.status_code == 302 and "/en/certificates/?number=" in response.url
    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-certificate="GIA 2141438171"' in html
    assert certified.variant.product.get_absolute_url().removeprefix("/") in html
    assert "Excellent" in html and "VS1" in html


def test_the_certificate_page_says_when_no_piece_carries_it(client, certified):
    page = client.get("/certificates/", {"number": "IGI 2141438171"})  # another lab's
    assert page.status_code == 200 and "data-certificate-missing" in page.content.decode()
    assert client.get("/certificates/").status_code == 200  # the empty form
    # A number nobody holds stays an ordinary search.
    assert client.get("/products/", {"q": "9999999999"}).status_code == 200


def test_a_certificate_of_a_piece_no_longer_sold_shows_without_a_link(client, certified):
    product = certified.variant.product
    product.is_active = False
    product.save()
    page = client.get("/en/certificates/", {"number": "2141438171"}).content.decode()
    assert "no longer for sale" in page and "data-piece" not in page


def test_a_word_inside_a_sku_is_no_typo_and_the_skus_stay_out_of_the_words(shelf):
    from catalog.search import vocabulary

    VariantFactory(product=shelf["pearl"], sku="PEARX-0001-45")
    product_search_refresh()
    # "pearx" is one letter from "pearl", but it stands in a SKU: searched as typed.
    assert parse_query("pearx").terms == ("pearx",)
    assert ranked("pearx") == [shelf["pearl"].slug]
    assert parse_query("pearls").terms == ("pearl",)
    words = vocabulary()
    assert "pearx" in words.pieces and "pearl" in words.latin
    assert not any(any(c.isdigit() for c in word) for word in words.latin)  # no SKU in them
