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
