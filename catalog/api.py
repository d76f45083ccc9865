"""The catalog's read API (for the mini-program and the app): /api/v1/categories/, products/.

Same filters, search and ordering as the pages (catalog.filters.ProductFilter);
an invalid filter value is a 400 with the reason. Answers for anonymous readers
are cached under the catalog version, so any change shows at once.
"""

from django.urls import include, path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from . import selectors
from .cache import cached, page_key
from .filters import ProductFilter
from .models import Category
from .serializers import CategorySerializer, ProductCardSerializer, ProductDetailSerializer


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.filter(is_active=True).select_related("parent").order_by(
        "position", "id")
    serializer_class = CategorySerializer
    pagination_class = None


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.products_for_cards()

    def get_serializer_class(self):
        return ProductDetailSerializer if self.action == "retrieve" else ProductCardSerializer

    def list(self, request, *args, **kwargs):
        return Response(cached(page_key(request, "api-list"),
                               lambda: super(ProductViewSet, self).list(request).data))

    @extend_schema(responses=ProductDetailSerializer)
    def retrieve(self, request, pk=None):
        def build():
            product = selectors.product_detail(pk=pk)
            return ProductDetailSerializer(product).data

        return Response(cached(page_key(request, "api-detail"), build))


router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="api-category")
router.register("products", ProductViewSet, basename="api-product")

urlpatterns = [path("", include(router.urls))]
