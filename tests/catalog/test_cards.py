"""The list's cards written in Python (shop_tags.product_cards) are the markup of
includes/product_card.html: every kind of card (a rendered photo, a photo without
renditions yet, none; one price, a "from" price, no price) in both languages."""
# The shop fixture is test_views' (imported below): its parameters are not redefinitions.
# ruff: noqa: F811

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from catalog import selectors
from catalog.models import Product, ProductImage
from catalog.templatetags.shop_tags import product_cards

from .test_views import _default_language, shop  # noqa: F401

pytestmark = pytest.mark.django_db


def squeezed(html: str) -> str:
    """``html`` with the template's indentation gone (whitespace between tags, runs)."""
    html = re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html))
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_python_cards_are_the_templates_cards(shop, language):
    ProductImage.objects.create(
        product=shop["diamond-solitaire"], original="products/ring.jpg", alt='Ring "front" <b>',
        renditions={size: {"jpeg": f"products/r/1/{size}.jpg", "webp": f"products/r/1/{size}.webp",
                           "width": width, "height": width}
                    for size, width in (("thumb", 160), ("card", 480), ("zoom", 1200))})
    ProductImage.objects.create(product=shop["pearl-necklace"], original="products/pearl.jpg")
    Product.objects.filter(pk=shop["gold-necklace"].pk).update(price_from=None)
    with translation.override(language):
        cards = selectors.cards_ready(selectors.product_cards(
            Product.objects.active().order_by("pk")))
        kinds = {(bool(p.cover_image), p.price_from is not None, bool(p.price_varies))
                 for p in cards}
        assert {(True, True, True), (True, True, False), (False, True, False),
                (False, False, False)} <= kinds  # every kind of card is compared
        expected = "".join(render_to_string("includes/product_card.html", {"product": p})
                           for p in cards)
        assert squeezed(product_cards(cards)) == squeezed(expected)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("query", ["", "q=ring&material=diamond&material=gold",
                                   "price_min=3000&price_max=9999&category=rings&store=sh"])
def test_python_facets_are_the_templates_facets(shop, language, query):
    from django.http import QueryDict

    from catalog.facets import product_facets
    from catalog.templatetags.shop_tags import facet_group
    from catalog.views import _facet_groups, _list_query, _valid_filterset

    with translation.override(language):
        filterset, data, _left_out = _valid_filterset(QueryDict(query))
        _ = filterset.qs  # filtered first, as the view does (the search keeps its parse on it)
        list_query = _list_query(data)
        groups = _facet_groups(filterset, list_query, product_facets(filterset))
        assert "price" in {g.name for g in groups}  # (its form is compared too)
        assert any(g.selected for g in groups) == ("material" in query)
        cleaned = filterset.form.cleaned_data
        context = {"products_url": "/products/", "price_min": cleaned.get("price_min"),
                   "price_max": cleaned.get("price_max"),
                   "price_hidden": [(k, v) for k, v in list_query.pairs
                                    if k not in ("price_min", "price_max")]}
        for group in groups:
            expected = render_to_string("catalog/_facet.html", {"group": group, **context})
            assert squeezed(facet_group(group, **context)) == squeezed(expected), group.name


@pytest.mark.parametrize("name", [
    "products/r/1/card.webp", "products/r/12/zoom.jpg", "/products/r/1/card.jpg",
    "products/a b/照片.jpg", "products/../card.jpg", "products/./card.jpg",
    "http://elsewhere.example/x.jpg", "products/r/1/card", "a:b/card.jpg", "products//x.jpg"])
@pytest.mark.parametrize("media_url_setting", ["/media/", "https://cdn.example.com/m/"])
def test_media_urls_are_the_storages(name, media_url_setting, settings):
    from django.core.files.storage import default_storage

    from catalog.templatetags.shop_tags import media_url

    settings.MEDIA_URL = media_url_setting
    assert media_url(name) == default_storage.url(name)
