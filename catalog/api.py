"""The catalog's read API (for the mini-program and the app): /api/v1/categories/, products/.

Same filters, search and ordering as the pages (catalog.filters.ProductFilter);
an invalid filter value, or a parameter that is no filter, is a 400 naming it. Answers for anonymous readers
are cached under the catalog version, so any change shows at once.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from o2o.filters import StrictFilterBackend

from . import selectors
from .cache import cached, page_key
from .filters import ProductFilter
from .models import Category
from .serializers import CategorySerializer, ProductCardSerializer, ProductDetailSerializer


def cached_answer(request, kind: str, build):
    """``build()``'s data under the catalog version; JSON readers (the apps) get the
    encoded bytes from the cache, so a hit costs no serialising at all. The browsable
    API renders the cached data as usual."""
    key = page_key(request, kind)
    if request.accepted_renderer.format != "json":
        return Response(cached(key, build))
    body = cached(f"{key}:json", lambda: JSONRenderer().render(build()))
    response = HttpResponse(body, content_type="application/json")
    patch_vary_headers(response, ["Accept"])
    return response


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.filter(is_active=True).select_related("parent").order_by(
        "position", "id")
    serializer_class = CategorySerializer
    pagination_class = None


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    filter_backends = [StrictFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.products_for_cards()

    def get_serializer_class(self):
        return ProductDetailSerializer if self.action == "retrieve" else ProductCardSerializer

    def list(self, request, *args, **kwargs):
        return cached_answer(request, "api-list",
                             lambda: super(ProductViewSet, self).list(request).data)

    @extend_schema(responses=ProductDetailSerializer)
    def retrieve(self, request, pk=None):
        def build():
            product = selectors.product_detail(pk=pk)
            return ProductDetailSerializer(product).data

        return cached_answer(request, "api-detail", build)


router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="api-category")
router.register("products", ProductViewSet, basename="api-product")

urlpatterns = [path("", include(router.urls))]
