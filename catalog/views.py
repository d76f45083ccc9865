from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import selectors


def home(request):
    return render(request, "catalog/home.html", selectors.home_page())


def _param(request, name: str, max_length: int = 100) -> str:
    # PostgreSQL refuses NUL characters in text: drop them rather than fail with a 500.
    return request.GET.get(name, "").replace("\x00", "").strip()[:max_length]


def product_list(request):
    """Active pieces, newest first: ?q= text, ?category= / ?collection= slugs, ?page=."""
    q = _param(request, "q")
    category = collection = None
    if slug := _param(request, "category"):
        category = selectors.category_by_slug(slug)
        if category is None:
            raise Http404(_("There is no such category."))
    if slug := _param(request, "collection"):
        collection = selectors.collection_by_slug(slug)
        if collection is None:
            raise Http404(_("There is no such collection."))

    products = selectors.product_search(q=q, category=category, collection=collection)
    paginator = Paginator(products, selectors.PRODUCTS_PER_PAGE)
    # get_page: a page that is not a number gives the first, one past the end the last.
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.prices_from_set(list(page.object_list))
    return render(request, "catalog/product_list.html", {
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "q": q,
        "category": category,
        "collection": collection,
    })


def product_detail(request, slug):
    product = selectors.product_for_page(slug)
    if product is None:
        raise Http404(_("This piece is not in the catalogue."))
    rows = selectors.variant_rows(product)
    prices = {row.price.amount for row in rows if row.price}
    variants = [row.variant for row in rows]
    return render(request, "catalog/product_detail.html", {
        "product": product,
        "images": list(product.images.all()),
        "variant_rows": rows,
        "price_from": min(prices) if prices else None,
        "price_varies": len(prices) > 1,
        "by_weight": any(row.price and row.price.is_by_weight for row in rows),
        # Columns that would hold only dashes are left out.
        "show_size": any(v.size for v in variants),
        "show_metal": any(v.metal for v in variants),
        "show_purity": any(v.purity for v in variants),
        "show_weight": any(v.weight_g for v in variants),
        "show_certificates": any(v.certificates.all() for v in variants),
    })
