"""What the catalog API shows. Read-only: prices come from catalog.pricing."""

from django.conf import settings
from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Certificate, Product, ProductImage


def media_url(path: str | None) -> str | None:
    return default_storage.url(path) if path else None


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "name_en", "title", "parent", "position"]


class ImageSerializer(serializers.ModelSerializer):
    renditions = serializers.SerializerMethodField()
    original = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "alt", "original", "renditions"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "object"}})
    def get_renditions(self, image) -> dict:
        return {
            name: {"webp": media_url(r.get("webp")), "jpeg": media_url(r.get("jpeg")),
                   "width": r.get("width"), "height": r.get("height")}
            for name, r in (image.renditions or {}).items()
        }

    def get_original(self, image) -> str | None:
        return image.original.url if image.original else None


class ProductCardSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    currency = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "name_en", "title", "category", "material", "gemstone",
                  "audience", "tags", "price_from", "currency", "image", "url", "created_at"]

    def get_currency(self, product) -> str:
        return settings.CURRENCY

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, product):
        images = list(product.images.all())
        return ImageSerializer(images[0]).data if images else None


class CertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certificate
        fields = ["lab", "number", "carat", "colour", "clarity", "cut", "issued_on"]


class AvailabilitySerializer(serializers.Serializer):
    store = serializers.CharField()
    store_name = serializers.CharField()
    city = serializers.CharField()
    available = serializers.IntegerField()


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    size = serializers.CharField()
    metal = serializers.CharField()
    purity = serializers.CharField()
    weight_g = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True)
    stone_carat = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    pricing_mode = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    rate_per_gram = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    labour_fee = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    unavailable_reason = serializers.CharField(allow_blank=True)
    certificates = CertificateSerializer(many=True)
    availability = AvailabilitySerializer(many=True)


class ProductDetailSerializer(ProductCardSerializer):
    description = serializers.CharField(source="summary")
    images = ImageSerializer(many=True)
    variants = VariantSerializer(many=True, source="variant_data")

    class Meta(ProductCardSerializer.Meta):
        fields = ProductCardSerializer.Meta.fields + ["description", "style", "images",
                                                      "variants"]
