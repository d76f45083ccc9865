from django.shortcuts import get_object_or_404, render

from . import selectors


def home(request):
    return render(request, "catalog/home.html", selectors.home_page())


def product_detail(request, slug):
    product = get_object_or_404(selectors.products_for_display(), slug=slug, is_active=True)
    return render(request, "catalog/product_detail.html", {"product": product})
