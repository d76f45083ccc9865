"""The shopper's catalog pages: home, the list with facets, search suggestions, the
product page and the wishlist.

The list and the product page cache their expensive part (the grid with its facets;
the product body with every variant's price, certificates and stock) under
``catalog.cache.page_key``, which carries the catalog version, so any change to a
product, a price or stock shows at once. What belongs to one visitor (the wishlist
heart, the header's account link) is rendered around the cached fragments; recently
viewed pieces are fetched by catalog.js after the page has loaded (``recently_viewed``),
so an anonymous visitor's page is the same for everyone and is cached whole
(catalog.middleware.AnonymousPageCacheMiddleware).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from urllib.parse import quote_plus, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from o2o.parsing import whole_number

from . import selectors, services
from .cache import cached, catalog_version, page_key, request_catalog_version
from .facets import Facet, kept_total, kept_word, store_facet, text_facets, word_counts
from .filters import ProductFilter, Sort
from .models import Gemstone, Material, Metal, Product
from .signals import product_viewed
from .templatetags.shop_tags import facet_group, grams, money, picture_data
from .vocabulary import cut_label

RECENT_KEY = "catalog:recently_viewed"  # the session's list of product ids, newest first
RECENT_MAX = 8


def home(request):
    """Collections and the newest pieces: the body is cached under the catalog version for
    everyone (a member's page adds only the header's own parts)."""
    body = cached(page_key(request, "home"),
                  lambda: render_to_string("catalog/_home_body.html", selectors.home_page()))
    return render(request, "catalog/home.html", {"body": body})


# --- The list: /products/?category=rings&material=gold&sort=price&page=2 ------------------
#
# One URL for every listing (a category, a collection, a search): the filters live in
# the query string, so links, the back button and the cache key all follow them.

LIST_FILTERS: tuple[str, ...] = tuple(ProductFilter.base_filters)  # also the links' order
_FILTER_ORDER = {name: rank for rank, name in enumerate(LIST_FILTERS)}
MULTIPLE = frozenset({"material", "gemstone", "metal"})
CHOICE_LABELS = {"material": Material.choices, "gemstone": Gemstone.choices,
                 "metal": Metal.choices}


@dataclass(frozen=True)
class ListQuery:
    """The list's valid filters as (name, value) pairs; every link is a change of them.

    Links never carry ``page``: a changed filter starts again at page one.
    """

    path: str
    pairs: tuple[tuple[str, str], ...]

    def url(self, *, drop: Iterable[str] = (), remove: Iterable[tuple[str, str]] = (),
            add: Iterable[tuple[str, str]] = (), page: int = 1) -> str:
        drop, remove = set(drop), set(remove)
        pairs = [(k, v) for k, v in self.pairs if k not in drop and (k, v) not in remove]
        pairs += [pair for pair in add if pair not in pairs]
        pairs.sort(key=lambda pair: _FILTER_ORDER[pair[0]])
        if page > 1:
            pairs.append(("page", str(page)))
        return f"{self.path}?{'&'.join(_encoded(*pair) for pair in pairs)}" if pairs else self.path


@lru_cache(maxsize=4096)
def _encoded(name: str, value: str) -> str:
    """``urlencode``'s text for one pair. A list page builds a couple of hundred facet
    links from the same few pairs: each is quoted once per process, not once per link
    (4.1 -> 1.9 µs a link measured; about 0.4 ms of a cold search's 20)."""
    return f"{quote_plus(name)}={quote_plus(value)}"


def _filter_data(params: QueryDict) -> QueryDict:
    """The known filters of ``params``: NUL characters dropped (PostgreSQL refuses
    them), empty values skipped, one value for a single-choice filter (the last)."""
    data = QueryDict(mutable=True)
    for name in LIST_FILTERS:
        values = [v.replace("\x00", "").strip() for v in params.getlist(name)]
        values = [v for v in values if v]
        if values:
            data.setlist(name, values if name in MULTIPLE else values[-1:])
    return data


def _valid_filterset(params: QueryDict) -> tuple[ProductFilter, QueryDict, list[tuple[str, str]]]:
    """A ProductFilter of the filters that validate; the others are left out and
    returned as (label, reason) so the page can say so."""
    data = _filter_data(params)
    filterset = ProductFilter(data, queryset=Product.objects.active())
    left_out: list[tuple[str, str]] = []
    if not filterset.is_valid():
        for name, errors in filterset.errors.items():
            field = filterset.filters.get(name)
            left_out.append((str(field.label) if field else name, " ".join(errors)))
            data.pop(name, None)
        filterset = ProductFilter(data, queryset=Product.objects.active())
        filterset.is_valid()
    return filterset, data, left_out


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    count: int = 0
    selected: bool = False


@dataclass(frozen=True)
class FacetGroup:
    name: str
    label: str
    links: list[Link]
    selected: int


def _facets_key(request: HttpRequest, query: ListQuery) -> str:
    filters = urlencode([pair for pair in query.pairs if pair[0] != "sort"])
    digest = blake2b(filters.encode(), digest_size=16).hexdigest()
    return f"catalog:facets:{request_catalog_version(request)}:{get_language()}:{digest}"


def _facets(request: HttpRequest, filterset: ProductFilter, query: ListQuery) -> list[Facet]:
    """The facet counts but the shops': cached apart from the grid, since they do not
    change with the page or the sort, so paging and re-sorting a list reuse them."""
    return cached(_facets_key(request, query), lambda: text_facets(filterset))


# Where the listing's cached HTML takes the shops' facet ("Available at"): that facet
# follows the shop floors (a piece sold out somewhere, catalog.cache's floor token), the
# rest of the listing only the catalog, so a sale does not re-render the grid.
STORE_SLOT = "<!--catalog:store-facet-->"


def _store_facet_html(request: HttpRequest) -> str:
    """The shops' facet of the list at ``request``, rendered. Its counts are served stale
    for the moment one process takes to count again after a sale: they are a hint (no
    piece is named; the product page and the checkout read the stock), unlike a list
    filtered by a shop, which is rebuilt before it is shown."""
    def build() -> str:
        filterset, data, _left_out = _request_filterset(request)
        query = _list_query(data)
        store = cached(f"{_facets_key(request, query)}:store", lambda: store_facet(filterset),
                       stale_ok=True)
        if not store.values:
            return ""
        (group,) = _facet_groups(filterset, query, [store])
        return facet_group(group)  # catalog/_facet.html's markup

    return cached(page_key(request, "store-facet"), build, stale_ok=True)


def _request_filterset(request: HttpRequest):
    """``_valid_filterset`` of the request's query, validated once per request (the grid
    and the shops' facet are built apart, from the same filters)."""
    found = getattr(request, "_catalog_filterset", None)
    if found is None:
        found = request._catalog_filterset = _valid_filterset(request.GET)
    return found


def _list_query(data: QueryDict) -> ListQuery:
    return ListQuery(reverse("catalog:product_list"),
                     tuple((name, value) for name in LIST_FILTERS for value in data.getlist(name)))


def _facet_groups(filterset: ProductFilter, query: ListQuery,
                  facets: list[Facet]) -> list[FacetGroup]:
    groups = []
    for facet in facets:
        links = []
        for value in facet.values:
            if facet.name == "price":
                low, _sep, high = value.value.partition("-")
                band = [("price_min", low)] if low else []
                band += [("price_max", high)] if high else []
                url = query.url(drop=["price_min", "price_max"],
                                add=[] if value.selected else band)
            elif facet.name in MULTIPLE:
                pair = (facet.name, value.value)
                url = query.url(remove=[pair]) if value.selected else query.url(add=[pair])
            else:
                url = query.url(drop=[facet.name],
                                add=[] if value.selected else [(facet.name, value.value)])
            links.append(Link(value.label, url, value.count, value.selected))
        groups.append(FacetGroup(facet.name, facet.label, links,
                                 sum(1 for link in links if link.selected)))
    return groups


def _chips(cleaned: dict, query: ListQuery) -> list[Link]:
    """The chosen filters, each with the link that removes it."""
    chips = []
    if cleaned.get("q"):
        chips.append(Link(f"“{cleaned['q']}”", query.url(drop=["q"])))
    for name in ("category", "collection"):
        if cleaned.get(name):
            chips.append(Link(cleaned[name].title, query.url(drop=[name])))
    for name in ("material", "gemstone", "metal"):
        labels = dict(CHOICE_LABELS[name])
        for value in cleaned.get(name) or []:
            chips.append(Link(str(labels.get(value, value)).capitalize(),
                              query.url(remove=[(name, value)])))
    if cleaned.get("size"):
        chips.append(Link(_("Size %(size)s") % {"size": cleaned["size"]},
                          query.url(drop=["size"])))
    low, high = cleaned.get("price_min"), cleaned.get("price_max")
    if low is not None or high is not None:
        if low is not None and high is not None:
            label = f"{money(low)} – {money(high)}"
        elif low is not None:
            label = _("From %(price)s") % {"price": money(low)}
        else:
            label = _("Up to %(price)s") % {"price": money(high)}
        chips.append(Link(label, query.url(drop=["price_min", "price_max"])))
    if cleaned.get("store"):
        chips.append(Link(_("In store: %(store)s") % {"store": cleaned["store"].title},
                          query.url(drop=["store"])))
    return chips


def _corrected(text: str, corrections: dict[str, str]) -> str:
    """``text`` as searched: each corrected word replaced by the catalog's word."""
    text = text.lower()
    for typed, word in corrections.items():
        text = re.sub(rf"(?<![a-z0-9]){re.escape(typed)}(?![a-z0-9])", word, text)
    return text


def _listing(request: HttpRequest) -> dict:
    """The list page's cached part: the heading, facets, chips, grid and pagination,
    rendered; a fixed number of queries whatever the page size."""
    filterset, data, left_out = _request_filterset(request)
    query = _list_query(data)
    cleaned = filterset.form.cleaned_data

    kept = word_counts(filterset)
    if kept is not None and filterset.clean_sort() == Sort.RELEVANCE:
        # A search for one catalog word, best match first: its matches are kept in that
        # order (catalog.facet_counts), so a page reads its 24 ids, not every match.
        rows = selectors.WordMatches(kept_word(filterset), kept[""][""])
    else:
        rows = selectors.product_cards(filterset.qs)
    paginator = Paginator(rows, selectors.PRODUCTS_PER_PAGE)
    total = kept_total(filterset)
    if total is not None:  # the unfiltered list's and a word's totals are kept (a COUNT
        paginator.count = total  # over every active product was ~5 ms at 10,000)
    # get_page: a page that is not a number gives the first, one past the end the last.
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.cards_ready(page.object_list)
    pages = [
        Link(str(number), query.url(page=number), selected=number == page.number)
        if number != paginator.ELLIPSIS else Link(str(number), "")
        for number in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    ]

    q = cleaned.get("q") or ""
    category, collection = cleaned.get("category"), cleaned.get("collection")
    parsed = getattr(filterset, "parsed_query", None)
    if q:
        title = _("Results for “%(query)s”") % {"query": q}
    elif category or collection:
        title = (category or collection).title
    else:
        title = _("All jewellery")
    facets = _facet_groups(filterset, query, _facets(request, filterset, query))
    sort = filterset.clean_sort()
    sorts = [(value, label) for value, label in Sort.CHOICES if q or value != Sort.RELEVANCE]
    chips = _chips(cleaned, query)
    context = {
        "title": title,
        "q": q,
        "category": category,
        "collection": collection,
        "corrected": _corrected(q, parsed.corrections) if parsed and parsed.corrections else "",
        "left_out": left_out,
        "page": page,
        "pages": pages,
        "previous_url": query.url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": query.url(page=page.next_page_number()) if page.has_next() else "",
        "facets": facets,
        "price_facet": any(group.name == "price" for group in facets),
        "store_slot": STORE_SLOT,
        "chips": chips,
        "has_filters": len(chips) > (1 if q else 0),
        "clear_url": query.url(drop=[n for n in LIST_FILTERS if n not in ("q", "sort")]),
        "sort": sort,
        "sorts": sorts,
        "sort_hidden": [(k, v) for k, v in query.pairs if k != "sort"],
        "price_hidden": [(k, v) for k, v in query.pairs if k not in ("price_min", "price_max")],
        "price_min": cleaned.get("price_min"),
        "price_max": cleaned.get("price_max"),
        "categories": selectors.category_menu() if not page.object_list else [],
    }
    return {"title": title, "html": render_to_string("catalog/_listing.html", context)}


@require_safe
def product_list(request):
    """Active pieces, filtered and sorted by the query string (catalog.filters); invalid
    filters are left out with a note, never a 500. A certificate number typed in the
    search box opens that certificate's page (the piece that carries it)."""
    q = request.GET.get("q", "")
    if selectors.looks_like_certificate_number(q) and selectors.certificate_lookup(q):
        return redirect(f"{reverse('catalog:certificate')}?{urlencode({'number': q.strip()})}")
    listing = dict(cached(page_key(request, "list"), lambda: _listing(request)))
    listing["html"] = listing["html"].replace(STORE_SLOT, _store_facet_html(request), 1)
    return render(request, "catalog/product_list.html", {"listing": listing})


# --- Certificates: /certificates/?number= -------------------------------------------------


@require_safe
def certificate(request):
    """Check a laboratory certificate by its number (GIA, IGI, NGTC...): which of our
    pieces carries it, with the laboratory's grades. Not found is said on the page."""
    typed = request.GET.get("number", "").replace("\x00", "").strip()[:60]
    found = selectors.certificate_lookup(typed) if typed else None
    variant = found.variant if found else None
    on_sale = bool(variant and variant.is_active and variant.product.is_active)
    return render(request, "catalog/certificate.html", {
        "typed": typed,
        "certificate": found,
        "variant": variant,
        "product": variant.product if variant else None,
        "on_sale": on_sale,
        "cut": cut_label(found.cut) if found else "",
        "piece_url": (f"{variant.product.get_absolute_url()}?{urlencode({'variant': variant.sku})}"
                      if on_sale else ""),
    })


# --- Search suggestions: /search/suggest?q= ------------------------------------------------


def _suggestions(text: str) -> dict:
    found = selectors.search_suggestions(text)
    products_url = reverse("catalog:product_list")
    products = []
    for product in found.products:
        thumb = picture_data(product.cover_image, "thumb")
        products.append({
            "title": product.title,
            "url": product.get_absolute_url(),
            "category": product.category.title,
            "price_from": str(product.price_from) if product.price_from is not None else None,
            "price": money(product.price_from),
            "thumb": thumb["src"],
            "thumb_webp": thumb.get("webp", ""),
        })
    return {
        "query": text,
        "corrected": _corrected(text, found.query.corrections) if found.query.corrections else "",
        "products": products,
        "categories": [{"title": c.title, "url": f"{products_url}?{urlencode({'category': c.slug})}"}
                       for c in found.categories],
        "all_url": f"{products_url}?{urlencode({'q': text})}" if text else products_url,
    }


@require_safe
def search_suggest(request):
    """Up to six products and three categories for the words typed so far (JSON)."""
    text = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    return JsonResponse(cached(page_key(request, "suggest"), lambda: _suggestions(text)))


# --- The product page ----------------------------------------------------------------------


def _size_order(value: str) -> tuple:
    number = re.match(r"\d+(?:\.\d+)?", value)
    return (0, float(number.group()), value) if number else (1, 0.0, value)


def _variant_view(row: dict) -> dict:
    """One variant as the page and its script show it: every text ready to display."""
    variant, price = row["variant"], row["price_info"]
    metal = f"{str(variant.get_metal_display()).capitalize()} {variant.purity}".strip()
    facts = [[_("Reference"), variant.sku]]
    if variant.size:
        facts.append([_("Size"), variant.size])
    if variant.metal:
        facts.append([_("Metal"), metal])
    if variant.weight_g:
        facts.append([_("Weight"), grams(variant.weight_g)])
    if variant.stone_carat:
        stones = f"{variant.stone_carat.normalize():f} ct"
        if variant.stone_count > 1:
            stones = _("%(count)s stones, %(carat)s in all") % {"count": variant.stone_count,
                                                               "carat": stones}
        facts.append([_("Stones"), stones])
    explanation = ""
    if price is not None and price.is_by_weight:
        explanation = _("%(weight)s × %(rate)s/g today + %(fee)s labour = %(price)s") % {
            "weight": grams(price.weight_g), "rate": money(price.rate_per_gram),
            "fee": money(price.labour_fee), "price": money(price.amount)}
    certificates = []
    for certificate in row["certificates"]:
        details = [f"{certificate.carat.normalize():f} ct" if certificate.carat else "",
                   _("colour %(grade)s") % {"grade": certificate.colour} if certificate.colour else "",
                   _("clarity %(grade)s") % {"grade": certificate.clarity} if certificate.clarity else "",
                   _("cut %(grade)s") % {"grade": cut_label(certificate.cut)} if certificate.cut else ""]
        certificates.append({
            "lab": certificate.lab,
            "number": certificate.number,
            "details": " · ".join(d for d in details if d),
            "issued": (_("issued %(date)s") % {"date": date_format(certificate.issued_on)}
                       if certificate.issued_on else ""),
        })
    stores = [{
        "name": place["store_name"],
        "city": place["city"],
        "url": place["url"],
        "stock": (_("The last piece") if place["available"] == 1 else
                  ngettext("%(count)s piece", "%(count)s pieces", place["available"])
                  % {"count": place["available"]}),
    } for place in row["availability"]]
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "options": {"size": variant.size, "metal": metal, "choice": variant.sku},
        "price": money(price.amount) if price is not None else "",
        "priced": price is not None,
        "reason": row["unavailable_reason"],
        "explanation": explanation,
        "facts": facts,
        "certificates": certificates,
        "stores": stores,
    }


def _option_label(dimension: str, view: dict, row: dict) -> str:
    if dimension != "choice":
        return view["options"][dimension]
    variant = row["variant"]
    if variant.stone_carat:
        return f"{variant.stone_carat.normalize():f} ct"
    return variant.size or variant.sku


def _picker(views: list[dict], rows: list[dict], current: dict | None) -> list[dict]:
    """The option buttons: a row per dimension that varies (size, metal), or one button
    per variant when nothing else tells them apart. Each button links to the variant it
    would choose (the same other options when such a variant exists), so the picker
    works without a script too."""
    if current is None or len(views) < 2:
        return []
    dimensions = [(name, label) for name, label in (("size", _("Size")), ("metal", _("Metal")))
                  if len({v["options"][name] for v in views}) > 1]
    if not dimensions:
        dimensions = [("choice", _("Option"))]
    picker = []
    for name, label in dimensions:
        others = [other for other, _label in dimensions if other != name]
        options: dict[str, dict] = {}
        for view, row in zip(views, rows, strict=True):
            value = view["options"][name]
            exact = all(view["options"][o] == current["options"][o] for o in others)
            known = options.get(value)
            if known is None or (exact and not known["exact"]):
                options[value] = {"value": value, "label": _option_label(name, view, row),
                                  "sku": view["sku"], "exact": exact,
                                  "selected": value == current["options"][name]}
        values = list(options.values())
        if name == "size":
            values.sort(key=lambda option: _size_order(option["value"]))
        chosen = next((option["label"] for option in values if option["selected"]), "")
        picker.append({"name": name, "label": label, "options": values, "chosen": chosen})
    return picker


def _product_body(request: HttpRequest, slug: str) -> dict:
    """The product page's cached part, rendered in pieces that the page puts around the
    visitor's own bits. Raises Http404."""
    product = selectors.product_page(slug=slug)
    rows = product.variant_data
    views = [_variant_view(row) for row in rows]
    wanted = request.GET.get("variant", "")
    current = (next((v for v in views if v["sku"] == wanted), None)
               or next((v for v in views if v["priced"]), None)
               or (views[0] if views else None))
    prices = [row["price"] for row in rows if row["price"] is not None]
    book_url = reverse("stores:appointment_book") + "?" + urlencode({"product": product.slug})
    context = {
        "product": product,
        "images": list(product.images.all()),
        "current": current,
        "picker": _picker(views, rows, current),
        "script_data": {"variants": views, "current": current["sku"] if current else ""},
        "price_from": min(prices) if prices else None,
        "price_varies": len(set(prices)) > 1,
        "by_weight": any(row["price_info"] and row["price_info"].is_by_weight for row in rows),
        # The certificate promise only on pieces that carry one (a gold bangle has none).
        "certified": any(view["certificates"] for view in views),
        "rows": rows,
        "views": views,
        "book_url": book_url,
        "affinities": selectors.product_affinities(product.pk, category_id=product.category_id),
        "products_url": reverse("catalog:product_list"),
    }
    return {
        "product_id": product.pk,
        "slug": product.slug,
        "title": product.title,
        "description": product.summary[:160],
        "breadcrumbs": render_to_string("catalog/_product_breadcrumbs.html", context),
        "gallery": render_to_string("catalog/_product_gallery.html", context),
        "info": render_to_string("catalog/_product_info.html", context),
        "details": render_to_string("catalog/_product_details.html", context),
    }


def _recent_ids(request: HttpRequest) -> list[int]:
    ids = request.session.get(RECENT_KEY)
    if not isinstance(ids, list):
        return []
    return [pk for pk in ids if isinstance(pk, int)][:RECENT_MAX]


def _remember_viewed(request: HttpRequest, product_id: int) -> None:
    """Put ``product_id`` first in the session's list. The session is written only when
    the list changes (reloading a piece writes nothing)."""
    ids = _recent_ids(request)
    if ids[:1] != [product_id]:
        request.session[RECENT_KEY] = [product_id] + [pk for pk in ids if pk != product_id][
            :RECENT_MAX - 1]


def _recently_viewed(request: HttpRequest, *, exclude: int | None = None) -> str:
    """The visitor's recently viewed pieces, rendered: one query for the lot, none while
    the same list is cached under the catalog version."""
    ids = [pk for pk in _recent_ids(request) if pk != exclude]
    if not ids:
        return ""
    key = f"catalog:recent:{catalog_version()}:{get_language()}:{','.join(map(str, ids))}"
    return cached(key, lambda: render_to_string(
        "catalog/_recently_viewed.html", {"products": selectors.products_by_ids(ids)}))


@require_safe
def product_detail(request, slug):
    """The product page. It holds nothing of the visitor's but the wishlist heart, so an
    anonymous visitor's copy is served whole from the page cache (catalog.middleware); the
    view is recorded, and recently viewed pieces shown, by ``recently_viewed`` below."""
    body = cached(page_key(request, "product"), lambda: _product_body(request, slug))
    return render(request, "catalog/product_detail.html", {
        "body": body,
        "wished": selectors.wishlist_has(request.user, body["product_id"]),
    })


@csrf_exempt
@require_POST
def recently_viewed(request) -> HttpResponse:
    """The visitor's recently viewed pieces, as a fragment that catalog.js asks for once a
    (possibly cached) list or product page has loaded. With ``seen=<product id>`` the
    piece is first put at the head of the list (and left out of what is shown), and the
    view is announced for analytics (popularity, "often viewed together").

    Not a GET, so no cache keeps it. The CSRF token is replaced by a custom header: a
    page elsewhere cannot send one without a CORS preflight this site never grants, and
    a cached page cannot carry a per-visitor token. Visitors without JavaScript (and
    most robots) are neither shown the list nor counted.
    """
    if request.headers.get("X-Requested-With") != "fetch":
        return HttpResponse(_("Ask for this from the shop's pages."), status=400,
                            content_type="text/plain; charset=utf-8")
    seen = request.POST.get("seen", "")
    product_id = None
    if seen:
        product_id = whole_number(seen)
        if product_id is None or not selectors.product_is_active(product_id):
            return HttpResponse(_("This piece is not in the catalogue."), status=404,
                                content_type="text/plain; charset=utf-8")
    html = _recently_viewed(request, exclude=product_id)
    if product_id is not None:
        _remember_viewed(request, product_id)
        # A first visit has no session key yet (the session is saved with the response);
        # saving it early only for this would cost every new visitor another write.
        product_viewed.send(
            sender=Product, product_id=product_id,
            user=request.user if request.user.is_authenticated else None,
            session_key=request.session.session_key or "",
            user_agent=request.headers.get("User-Agent", ""))
    response = HttpResponse(html)
    response["Cache-Control"] = "no-store"
    return response


# --- Wishlist ---------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def wishlist_toggle(request, slug):
    """Save (``wished=1``, the default) or forget (``wished=0``) a piece: the same POST
    twice leaves the same result. A visitor is sent to sign in first."""
    product = selectors.product_by_slug(slug)
    if product is None:
        raise Http404(_("This piece is not in the catalogue."))
    if not request.user.is_authenticated:
        return redirect_to_login(product.get_absolute_url())
    wished = request.POST.get("wished", "1") != "0"
    if wished:
        if not product.is_active:
            raise Http404(_("This piece is not in the catalogue."))
        services.wishlist_add(user=request.user, product=product)
    else:
        services.wishlist_remove(user=request.user, product=product)
    if _wants_json(request):
        return JsonResponse({"wished": wished})
    messages.success(request, _("Saved to your wishlist.") if wished
                     else _("Removed from your wishlist."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = product.get_absolute_url()
    return redirect(target)


@login_required
@require_safe
def wishlist(request) -> HttpResponse:
    return render(request, "catalog/wishlist.html", {
        "products": selectors.wishlist_products(request.user),
    })
