from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Bilingual(models.Model):
    """Content names in Chinese (``name``) with an optional English twin (``name_en``)."""

    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    @property
    def title(self) -> str:
        lang = get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class Category(Bilingual):
    """A node of the category tree (rings > engagement rings)."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent"))
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="category_not_own_parent"),
        ]


class CollectionKind(models.TextChoices):
    BASIC = "basic", _("basic")
    BESTSELLER = "bestseller", _("bestseller")
    LIMITED = "limited", _("limited edition")
    CUSTOM = "custom", _("curated")


class Collection(Bilingual):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=CollectionKind.choices,
                            default=CollectionKind.CUSTOM)
    description = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["position", "id"]


class Material(models.TextChoices):
    GOLD = "gold", _("gold")
    K18 = "k18", _("18K gold")
    PLATINUM = "platinum", _("platinum")
    SILVER = "silver", _("silver")
    DIAMOND = "diamond", _("diamond")
    JADE = "jade", _("jade")
    PEARL = "pearl", _("pearl")


class Gemstone(models.TextChoices):
    NONE = "", _("none")
    DIAMOND = "diamond", _("diamond")
    JADE = "jade", _("jade")
    PEARL = "pearl", _("pearl")
    RUBY = "ruby", _("ruby")
    SAPPHIRE = "sapphire", _("sapphire")
    EMERALD = "emerald", _("emerald")


class Audience(models.TextChoices):
    WOMEN = "women", _("women")
    MEN = "men", _("men")
    UNISEX = "unisex", _("everyone")


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Product(Bilingual):
    """A piece as the shopper sees it; its SKUs are the variants."""

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products",
                                 verbose_name=_("category"))
    collections = models.ManyToManyField(Collection, blank=True, related_name="products",
                                         verbose_name=_("collections"))
    description = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    material = models.CharField(_("material"), max_length=12, choices=Material.choices)
    gemstone = models.CharField(_("gemstone"), max_length=12, choices=Gemstone.choices, blank=True)
    style = models.CharField(_("style"), max_length=60, blank=True)
    audience = models.CharField(_("for"), max_length=8, choices=Audience.choices,
                                default=Audience.WOMEN)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True,
                      verbose_name=_("tags"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Derived columns, kept by catalog.services so that lists filter, sort and search in
    # SQL. The price shown and charged always comes from catalog.pricing.variant_price.
    price_from = models.DecimalField(_("price from"), max_digits=12, decimal_places=2,
                                     null=True, blank=True, editable=False)
    popularity = models.PositiveIntegerField(_("popularity"), default=0, editable=False)
    search_document = models.TextField(_("search text"), blank=True, editable=False,
                                       help_text=_("Lower-case names, kinds and tags in both languages."))

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["-created_at"], name="product_newest"),
            models.Index(fields=["price_from"], name="product_price_from"),
            models.Index(fields=["-popularity"], name="product_popular"),
            GinIndex(fields=["search_document"], opclasses=["gin_trgm_ops"],
                     name="product_search_trgm"),
        ]

    def get_absolute_url(self):
        return reverse("catalog:product", kwargs={"slug": self.slug})

    @property
    def summary(self) -> str:
        lang = get_language() or ""
        return self.description_en if lang.startswith("en") and self.description_en else self.description


class Metal(models.TextChoices):
    NONE = "", _("none")
    GOLD = "gold", _("gold")
    PLATINUM = "platinum", _("platinum")
    SILVER = "silver", _("silver")


class PricingMode(models.TextChoices):
    FIXED = "fixed", _("fixed price")
    BY_WEIGHT = "by_weight", _("by weight")


class Variant(models.Model):
    """The SKU: one size/metal of a product. A one-of-a-kind piece has stock 1."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants",
                                verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    barcode = models.CharField(_("barcode"), max_length=40, blank=True, db_index=True)
    size = models.CharField(_("size"), max_length=20, blank=True,
                            help_text=_("Ring size (e.g. 12) or chain length (e.g. 45cm)."))
    metal = models.CharField(_("metal"), max_length=10, choices=Metal.choices, blank=True)
    purity = models.CharField(_("purity"), max_length=10, blank=True,
                              help_text=_("Fineness in thousandths: 999, 750, 950, 925."))
    weight_g = models.DecimalField(_("weight (g)"), max_digits=8, decimal_places=3,
                                   null=True, blank=True)
    stone_carat = models.DecimalField(_("stone (ct)"), max_digits=6, decimal_places=3,
                                      null=True, blank=True)
    stone_count = models.PositiveSmallIntegerField(_("stones"), default=0)
    pricing_mode = models.CharField(_("pricing"), max_length=10, choices=PricingMode.choices,
                                    default=PricingMode.FIXED)
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=2,
                                     null=True, blank=True)
    labour_fee = models.DecimalField(_("labour fee"), max_digits=10, decimal_places=2,
                                     default=Decimal("0"))
    # What one piece cost the house (staff only: never on shop pages or the API); the
    # dashboards value stock and the cost of goods sold with it.
    cost_price = models.DecimalField(_("cost price"), max_digits=12, decimal_places=2,
                                     null=True, blank=True,
                                     help_text=_("What one piece cost us, in yuan (staff only)."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # The price in force now, or NULL when it cannot be sold (a missing rate); kept by
    # catalog.services.prices_refresh for filtering and sorting only.
    current_price = models.DecimalField(_("current price"), max_digits=12, decimal_places=2,
                                        null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                # isnull=False spelled out: a CHECK on NULL > 0 would pass.
                condition=Q(pricing_mode="fixed", list_price__isnull=False, list_price__gt=0)
                | Q(pricing_mode="by_weight", weight_g__isnull=False, weight_g__gt=0,
                    labour_fee__gte=0) & ~Q(metal="") & ~Q(purity=""),
                name="variant_priceable",
                violation_error_message=_(
                    "A fixed-price variant needs a list price; a by-weight one needs "
                    "metal, purity and weight."
                ),
            ),
            models.CheckConstraint(condition=Q(cost_price__isnull=True) | Q(cost_price__gte=0),
                                   name="variant_cost_not_negative"),
        ]

    def __str__(self):
        return f"{self.product.name} {self.size}".strip() + f" ({self.sku})"


class MetalRate(models.Model):
    """The day's price per gram of a metal at a purity, in force from ``valid_from``."""

    metal = models.CharField(_("metal"), max_length=10, choices=Metal.choices[1:])
    purity = models.CharField(_("purity"), max_length=10)
    rate_per_gram = models.DecimalField(_("rate per gram"), max_digits=10, decimal_places=2)
    valid_from = models.DateTimeField(_("valid from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, verbose_name=_("entered by"))
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    class Meta:
        verbose_name = _("metal rate")
        verbose_name_plural = _("metal rates")
        ordering = ["metal", "purity", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["metal", "purity", "valid_from"],
                                    name="metal_rate_once_per_moment"),
            models.CheckConstraint(condition=Q(rate_per_gram__gt=0), name="metal_rate_positive"),
        ]

    def __str__(self):
        return f"{self.get_metal_display()} {self.purity}: {self.rate_per_gram}/g"


class CertificateLab(models.TextChoices):
    GIA = "GIA", "GIA"
    IGI = "IGI", "IGI"
    NGTC = "NGTC", _("NGTC (China)")
    HRD = "HRD", "HRD"


class Certificate(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="certificates",
                                verbose_name=_("variant"))
    lab = models.CharField(_("lab"), max_length=8, choices=CertificateLab.choices)
    number = models.CharField(_("number"), max_length=40)
    carat = models.DecimalField(_("carat"), max_digits=6, decimal_places=3, null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=10, blank=True)
    clarity = models.CharField(_("clarity"), max_length=10, blank=True)
    cut = models.CharField(_("cut"), max_length=20, blank=True)
    issued_on = models.DateField(pgettext_lazy("certificate", "issued"), null=True, blank=True)
    scan = models.FileField(_("scan"), upload_to="certificates/", blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(fields=["lab", "number"], name="certificate_unique_number"),
        ]

    def __str__(self):
        return f"{self.lab} {self.number}"


class ProductImage(models.Model):
    """An uploaded original; ``renditions`` maps size name to files made by Pillow."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images",
                                verbose_name=_("product"))
    original = models.ImageField(_("original"), upload_to="products/originals/")
    alt = models.CharField(_("alt text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    renditions = models.JSONField(_("renditions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["position", "id"]

    def __str__(self):
        return self.original.name


class VariantPriceChange(models.Model):
    """Price history: a row each time a variant's price in force changes (or stops)."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="price_changes",
                                verbose_name=_("variant"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True,
                                help_text=_("Empty: the piece could not be priced."))
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.CharField(_("reason"), max_length=40)

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price history")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.variant_id} {self.price} @ {self.at:%Y-%m-%d %H:%M}"


class WishlistItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="wishlist", verbose_name=_("member"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("wishlist item")
        verbose_name_plural = _("wishlist")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="wishlist_once"),
        ]

    def __str__(self):
        return f"{self.user_id} ♥ {self.product_id}"


class AffinityKind(models.TextChoices):
    VIEWED = "viewed", _("often viewed together")
    BOUGHT = "bought", _("often bought together")


class ProductAffinity(models.Model):
    """How often two products go together; computed by catalog.tasks, read on product pages."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="affinities",
                                verbose_name=_("product"))
    other = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("other product"))
    kind = models.CharField(_("kind"), max_length=8, choices=AffinityKind.choices)
    score = models.PositiveIntegerField(_("together"))

    class Meta:
        verbose_name = _("product affinity")
        verbose_name_plural = _("product affinities")
        constraints = [
            models.UniqueConstraint(fields=["product", "other", "kind"], name="affinity_once"),
            models.CheckConstraint(condition=~Q(product=models.F("other")),
                                   name="affinity_not_self"),
        ]
        indexes = [models.Index(fields=["product", "kind", "-score"], name="affinity_top")]

    def __str__(self):
        return f"{self.product_id} ~ {self.other_id} ({self.kind} {self.score})"


class FloorProduct(models.Model):
    """How many active variants of an active product have a piece available at a shop
    (catalog.floor keeps it in the transaction of each stock move that crosses zero)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("store"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    variants = models.IntegerField(_("variants available"), default=0)

    class Meta:
        verbose_name = _("product on a shop floor")
        verbose_name_plural = _("products on shop floors")
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="floor_product_once"),
        ]

    def __str__(self):
        return f"{self.product_id}@{self.store_id}: {self.variants}"


class FloorShop(models.Model):
    """How many active products have a piece available at a shop: the unfiltered list's
    "Available at" facet, read without counting (catalog.floor)."""

    store = models.OneToOneField("stores.Store", on_delete=models.CASCADE, primary_key=True,
                                 related_name="+", verbose_name=_("store"))
    products = models.IntegerField(_("products available"), default=0)

    class Meta:
        verbose_name = _("shop floor count")
        verbose_name_plural = _("shop floor counts")

    def __str__(self):
        return f"{self.store_id}: {self.products}"


class FacetProduct(models.Model):
    """One value an active product shows under a facet of the list: its category, a
    collection, its material, gemstone, a metal or size of an active variant, its price
    band (catalog.facet_counts keeps these rows in the transaction of each catalog write)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    facet = models.CharField(_("facet"), max_length=12)
    value = models.CharField(pgettext_lazy("facet", "value"), max_length=40)

    class Meta:
        verbose_name = _("facet value of a product")
        verbose_name_plural = _("facet values of products")
        constraints = [
            models.UniqueConstraint(fields=["product", "facet", "value"],
                                    name="facet_product_once"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.facet}={self.value}"


class FacetCount(models.Model):
    """How many active products show a facet value: the unfiltered list's facets, read
    without counting (catalog.facet_counts)."""

    facet = models.CharField(_("facet"), max_length=12)
    value = models.CharField(pgettext_lazy("facet", "value"), max_length=40)
    products = models.IntegerField(_("products showing it"), default=0)

    class Meta:
        verbose_name = _("facet count")
        verbose_name_plural = _("facet counts")
        constraints = [
            models.UniqueConstraint(fields=["facet", "value"], name="facet_count_once"),
        ]

    def __str__(self):
        return f"{self.facet}={self.value}: {self.products}"


class SearchWord(models.Model):
    """A word an active product's search text gives the search vocabulary (catalog.search):
    a Chinese or Latin word, or (``piece``) a run of letters of a SKU. Kept with the facet
    rows (catalog.facet_counts); the totals per word are ``FacetCount`` rows."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    kind = models.CharField(_("kind"), max_length=12)
    word = models.CharField(_("word"), max_length=40)

    class Meta:
        verbose_name = _("search word of a product")
        verbose_name_plural = _("search words of products")
        constraints = [
            models.UniqueConstraint(fields=["product", "kind", "word"], name="search_word_once"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.kind}:{self.word}"


class WordProduct(models.Model):
    """An active product whose search text holds a Chinese word of the search vocabulary
    (the search's ``LIKE '%word%'``), for every such word: what a search for the word
    matches, kept (catalog.facet_counts) so that its facets are read, not counted."""

    word = models.CharField(_("word"), max_length=40)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    # The search's best-match order, kept beside the match (catalog.search.search_filter's
    # rank for one Chinese word: the word in the name first, then popularity, newest id),
    # so a page of a search for the word is read from the index, not sorted from all.
    in_name = models.BooleanField(_("in the name"), default=False)
    popularity = models.PositiveIntegerField(_("popularity"), default=0)

    class Meta:
        verbose_name = _("product found by a word")
        verbose_name_plural = _("products found by words")
        constraints = [
            models.UniqueConstraint(fields=["word", "product"], name="word_product_once"),
        ]
        indexes = [
            models.Index(fields=["product"], name="word_product_product"),
            models.Index(fields=["word", "-in_name", "-popularity", "-product"],
                         name="word_product_best_match"),
        ]

    def __str__(self):
        return f"{self.word}: {self.product_id}"


class WordFacetCount(models.Model):
    """How many of the products a search for ``word`` finds show a facet value (the
    ``FacetProduct`` values, and ``store``: a shop id with a piece available there);
    facet "" counts them all. Kept with ``WordProduct`` (catalog.facet_counts,
    catalog.floor): a search for one catalog word reads its facets here."""

    word = models.CharField(_("word"), max_length=40)
    facet = models.CharField(_("facet"), max_length=12, blank=True)
    value = models.CharField(pgettext_lazy("facet", "value"), max_length=40, blank=True)
    products = models.IntegerField(_("products showing it"), default=0)

    class Meta:
        verbose_name = _("facet count of a word")
        verbose_name_plural = _("facet counts of words")
        constraints = [
            models.UniqueConstraint(fields=["word", "facet", "value"],
                                    name="word_facet_count_once"),
        ]

    def __str__(self):
        return f"{self.word} {self.facet}={self.value}: {self.products}"
