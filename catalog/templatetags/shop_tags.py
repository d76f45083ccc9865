"""Storefront helpers: money as the shop writes it, product pictures, phone numbers."""

import re
from decimal import Decimal

from django import template
from django.core.files.storage import FileSystemStorage, default_storage
from django.templatetags.static import static
from django.utils.encoding import filepath_to_uri
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from o2o.dates import weekday_date
from o2o.money import money
from o2o.phone import phone_display

from .. import vocabulary

register = template.Library()
register.filter("money", money)
register.filter("phone_display", phone_display)

PLACEHOLDER = "img/placeholder.svg"
DEFAULT_SIDE = 480  # originals and the placeholder are shown in square frames


@register.filter
@register.filter
def style_label(value: str) -> str:
    """A product's style value in the shopper's language (catalog.vocabulary)."""
    return vocabulary.style_label(value)


@register.filter(name="weekday_date")
def weekday_date_filter(day, size: str = "") -> str:
    """``day|weekday_date`` -> 2026年12月7日 星期一 / Monday, Dec. 7, 2026;
    ``day|weekday_date:"short"`` -> 12月7日 周一 / Mon, Dec 7 (o2o.dates)."""
    return weekday_date(day, short=size == "short") if day else ""


@register.filter
def localized(obj, field: str) -> str:
    """``collection|localized:"description"``: the ``_en`` twin in English, when it is filled."""
    if (get_language() or "").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field, "")


@register.filter
def grams(weight) -> str:
    """``Decimal("3.250")`` -> ``3.25 g``."""
    if weight is None:
        return ""
    return f"{Decimal(weight).normalize():f} g"


# A stored name that joins its storage's base URL as it is: no scheme, no empty, "." or
# ".." segment, one extension (what the renditions are named: products/r/12/card.webp).
_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_\-%]+/)*[A-Za-z0-9_\-%]+\.[A-Za-z0-9]+")


def media_url(name: str) -> str:
    """``default_storage.url(name)``: for the file system storage and a plain name, the
    base URL and the quoted name joined directly (its urljoin was ~1.5 ms of the six
    URLs of each of a list's 24 cards); anything else asks the storage."""
    base = getattr(default_storage, "base_url", None)
    if isinstance(default_storage._wrapped, FileSystemStorage) and base and base.endswith("/"):
        url = filepath_to_uri(name).lstrip("/")
        if _PLAIN_NAME.fullmatch(url):
            return base + url
    return default_storage.url(name)


def _picture(image, size: str) -> dict:
    renditions = (getattr(image, "renditions", None) or {}) if image else {}
    if size in renditions:
        chosen = renditions[size]
        ordered = sorted(renditions.values(), key=lambda r: r.get("width", 0))
        # Offer the chosen size and anything larger (sharp on dense screens).
        bigger = [r for r in ordered if r.get("width", 0) >= chosen.get("width", 0)]

        def srcset(fmt: str) -> str:
            return ", ".join(f"{media_url(r[fmt])} {r['width']}w"
                             for r in bigger if r.get(fmt) and r.get("width"))

        return {
            "src": media_url(chosen["jpeg"]),
            "webp": media_url(chosen["webp"]) if chosen.get("webp") else "",
            "webp_srcset": srcset("webp"),
            "jpeg_srcset": srcset("jpeg"),
            "width": chosen.get("width") or DEFAULT_SIDE,
            "height": chosen.get("height") or chosen.get("width") or DEFAULT_SIDE,
        }
    if image and getattr(image, "original", None):
        return {"src": image.original.url, "width": DEFAULT_SIDE, "height": DEFAULT_SIDE}
    return {"src": static(PLACEHOLDER), "width": DEFAULT_SIDE, "height": DEFAULT_SIDE,
            "placeholder": True}


@register.filter
def card_image(product):
    """A card's picture: the ``cover_image`` a selector attached (no query), else the
    first of the product's prefetched images, else None (the placeholder)."""
    if hasattr(product, "cover_image"):
        return product.cover_image
    images = list(product.images.all())
    return images[0] if images else None


@register.inclusion_tag("includes/picture.html")
def product_picture(image, size="card", alt="", sizes="", eager=False, css_class=""):
    """A <picture> of a ProductImage: WebP and JPEG renditions, else the original, else
    the placeholder. ``size`` names the rendition (thumb, card, zoom)."""
    context = _picture(image, size)
    context.update(
        alt=(getattr(image, "alt", "") if image else "") or alt,
        sizes=sizes,
        eager=eager,
        css_class=css_class,
    )
    return context


@register.simple_tag
def picture_data(image, size="zoom") -> dict:
    """``{% picture_data image "zoom" as zoom %}``: the URLs and size of one rendition."""
    return _picture(image, size)


# --- The list's cards, written in Python ------------------------------------------------
#
# includes/product_card.html (with includes/picture.html through ``product_picture``) is
# some 60 template nodes a card: about a third of a cold list page's CPU for its 24 cards
# (issue 18). The list writes its cards here instead, the same markup (a test renders both
# and compares them); the template stays for the other pages' few cards.

CARD_SIZES = "(min-width: 1100px) 280px, (min-width: 760px) 30vw, 46vw"


def picture_html(image, size: str = "card", alt: str = "", sizes: str = "") -> str:
    """includes/picture.html for ``product_picture(image, size, alt, sizes)`` (lazy)."""
    data = _picture(image, size)
    alt = (getattr(image, "alt", "") if image else "") or alt
    parts = ['<picture class="pic', " pic--placeholder" if data.get("placeholder") else "", '">']
    sized = f' sizes="{escape(sizes)}"' if sizes else ""
    if data.get("webp_srcset"):
        parts.append(f'<source type="image/webp" srcset="{escape(data["webp_srcset"])}"{sized}>')
    parts.append(f'<img src="{escape(data["src"])}"')
    if data.get("jpeg_srcset"):
        parts.append(f' srcset="{escape(data["jpeg_srcset"])}"{sized}')
    parts.append(f' alt="{escape(alt)}" width="{escape(data["width"])}" '
                 f'height="{escape(data["height"])}" loading="lazy" decoding="async"></picture>')
    return "".join(parts)


def _card_price(product) -> str:
    if product.price_from is None:
        return f'<span class="muted">{escape(gettext("Price on request"))}</span>'
    price = escape(money(product.price_from))
    if getattr(product, "price_varies", False):
        return gettext("From %(price)s") % {"price": price}
    return price


@register.simple_tag
def product_cards(products) -> SafeString:
    """includes/product_card.html for each of ``products`` (cards_ready's rows)."""
    cards = []
    for product in products:
        cards.append(
            '<article class="product-card">'
            f'<a class="product-card__link" href="{escape(product.get_absolute_url())}">'
            '<div class="product-card__media">'
            f"{picture_html(card_image(product), 'card', product.title, CARD_SIZES)}</div>"
            '<div class="product-card__body">'
            f'<p class="product-card__category">{escape(product.category.title)}</p>'
            f'<h3 class="product-card__name">{escape(product.title)}</h3>'
            f'<p class="product-card__price">{_card_price(product)}</p>'
            "</div></a></article>")
    return mark_safe("".join(cards))


# --- The list's facets, written in Python -----------------------------------------------
#
# catalog/_facet.html, included once per facet (some 60 links on a list), was the rest of
# the listing's render; the list and its shops' facet write them here, the same markup (a
# test renders both and compares them). The template stays as the markup's reference.


def _link_html(link) -> str:
    current = ' aria-current="true"' if link.selected else ""
    return (f'<li><a class="facet__option" href="{escape(link.url)}" rel="nofollow"{current}>'
            '<span class="facet__box" aria-hidden="true"></span>'
            f'<span class="facet__label">{escape(link.label)}</span>'
            '<span class="facet__count"><span class="visually-hidden">(</span>'
            f'{escape(localize(link.count))}<span class="visually-hidden">)</span></span></a></li>')


def _bound_html(name: str, label: str, placeholder: str, value) -> str:
    shown = "" if value is None else localize(value)
    return (f'<label class="price-range__field"><span class="visually-hidden">'
            f'{escape(label)}</span><input type="number" name="{name}" min="0" step="1" '
            f'inputmode="numeric" placeholder="{escape(placeholder)}" value="{escape(shown)}">'
            "</label>")


@register.simple_tag
def facet_group(group, products_url: str = "", price_hidden=(), price_min=None,
                price_max=None) -> SafeString:
    """catalog/_facet.html for ``group`` (catalog.views.FacetGroup); the price's form
    takes the list's URL, its other filters and the bounds typed."""
    name = escape(group.name)
    long = " facet__list--long" if len(group.links) > 8 else ""
    parts = [f'<section class="facet facet--{name}" aria-labelledby="facet-{name}">'
             f'<h2 class="facet__title" id="facet-{name}">{escape(group.label)}</h2>'
             f'<ul class="facet__list{long}">',
             *map(_link_html, group.links), "</ul>"]
    if group.name == "price":
        parts.append(f'<form class="price-range" method="get" action="{escape(products_url)}">')
        parts += [f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
                  for key, value in price_hidden]
        parts += [_bound_html("price_min", gettext("Lowest price"), gettext("Min ¥"), price_min),
                  '<span class="price-range__dash" aria-hidden="true">–</span>',
                  _bound_html("price_max", gettext("Highest price"), gettext("Max ¥"), price_max),
                  f'<button class="price-range__go" type="submit">{escape(gettext("Go"))}</button>'
                  "</form>"]
    parts.append("</section>")
    return mark_safe("".join(parts))
