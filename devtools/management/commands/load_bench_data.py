"""A catalog the size of a national chain, for `make bench`: 10,000 products, 40,000
variants, 20 stores with stock. Rows are bulk-inserted (this is test data, not
business); derived columns are then made by the real services. Idempotent: a
second run finds the data and stops.
"""

import random
import time
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from catalog.facet_counts import facets_rebuild
from catalog.floor import floor_rebuild
from catalog.models import Category, MetalRate, PricingMode, Product, ProductImage, Variant
from catalog.services import prices_refresh, product_search_refresh
from stores.models import StockLevel, Store, StoreKind

PREFIX = "bench-"
CITIES = [("上海", "Shanghai"), ("北京", "Beijing"), ("深圳", "Shenzhen"), ("成都", "Chengdu"),
          ("杭州", "Hangzhou"), ("南京", "Nanjing"), ("武汉", "Wuhan"), ("西安", "Xi'an"),
          ("重庆", "Chongqing"), ("广州", "Guangzhou")]
KINDS = [
    # (category slug, zh noun, en noun, material, gemstone, by weight?, sizes)
    ("rings", "戒指", "ring", "gold", "", True, ["10", "12", "14", "16"]),
    ("rings", "钻石戒指", "diamond ring", "diamond", "diamond", False, ["10", "12", "14", "16"]),
    ("necklaces", "项链", "necklace", "k18", "", True, ["40cm", "42cm", "45cm", "50cm"]),
    ("necklaces", "珍珠项链", "pearl necklace", "pearl", "pearl", False,
     ["40cm", "42cm", "45cm", "50cm"]),
    ("earrings", "耳钉", "stud earrings", "platinum", "", True, ["S", "M", "L", "XL"]),
    ("bracelets", "手镯", "bangle", "jade", "jade", False, ["52", "54", "56", "58"]),
    ("pendants", "吊坠", "pendant", "gold", "", True, ["S", "M", "L", "XL"]),
]
ADJECTIVES = [("古法", "heritage"), ("简约", "minimal"), ("经典", "classic"), ("福字", "fortune"),
              ("如意", "ruyi"), ("莲花", "lotus"), ("星光", "starlight"), ("心形", "heart"),
              ("竹节", "bamboo"), ("祥云", "cloud")]
PURITY = {"gold": ("gold", "999"), "k18": ("gold", "750"), "platinum": ("platinum", "950")}


class Command(BaseCommand):
    help = "Load the benchmark catalog (10,000 products, 40,000 variants, 20 stores)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=10_000)
        parser.add_argument("--stores", type=int, default=20)

    def handle(self, *args, products: int, stores: int, **options):
        if Product.objects.filter(slug__startswith=PREFIX).count() >= products:
            self.stdout.write("bench data: already loaded")
            return
        started = time.monotonic()
        rng = random.Random(7)
        with transaction.atomic():
            self._load(rng, products, stores)
        product_search_refresh()
        prices_refresh(reason="bench")
        facets_rebuild()  # products written in bulk: the list's facets (catalog.facet_counts)
        floor_rebuild()  # the stock went in in bulk: the list's shops facet (catalog.floor)
        # Fresh statistics, or the planner guesses: the store facet took 700 ms instead
        # of 48 on tables autovacuum had not analysed yet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"bench data: loaded in {time.monotonic() - started:.0f}s")

    def _load(self, rng: random.Random, count: int, store_count: int) -> None:
        categories = {}
        for slug, name, name_en in [("rings", "戒指", "Rings"), ("necklaces", "项链", "Necklaces"),
                                    ("earrings", "耳饰", "Earrings"),
                                    ("bracelets", "手镯手链", "Bracelets & bangles"),
                                    ("pendants", "吊坠", "Pendants")]:
            categories[slug], _ = Category.objects.get_or_create(
                slug=slug, defaults={"name": name, "name_en": name_en})
        now = timezone.now()
        for metal, purity, rate in [("gold", "999", "780"), ("gold", "750", "585"),
                                    ("platinum", "950", "330")]:
            if not MetalRate.objects.filter(metal=metal, purity=purity).exists():
                MetalRate.objects.create(metal=metal, purity=purity, valid_from=now,
                                         rate_per_gram=Decimal(rate))
        places = []
        for i in range(store_count):
            city, city_en = CITIES[i % len(CITIES)]
            store, _ = Store.objects.get_or_create(
                code=f"{PREFIX}{i:02d}",
                defaults={"name": f"{city}{i:02d}号店", "name_en": f"{city_en} No. {i:02d}",
                          "city": city, "city_en": city_en, "address": f"{city}中心大道{i}号",
                          "kind": StoreKind.STORE})
            places.append(store)
        # One photo shared by every bench product keeps pages realistic in weight.
        sample = ProductImage.objects.exclude(renditions={}).first()

        existing = set(Product.objects.filter(slug__startswith=PREFIX)
                       .values_list("slug", flat=True))
        new_products = []
        for n in range(count):
            slug = f"{PREFIX}{n:05d}"
            if slug in existing:
                continue
            category, noun, noun_en, material, gem, _by_weight, _sizes = KINDS[n % len(KINDS)]
            adjective, adjective_en = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
            new_products.append(Product(
                slug=slug, name=f"{adjective}{noun} {n:05d}",
                name_en=f"{adjective_en.title()} {noun_en} {n:05d}",
                category=categories[category], material=material, gemstone=gem,
                description="基准测试商品。", description_en="A benchmark piece.",
                tags=[adjective]))
        Product.objects.bulk_create(new_products, batch_size=2000)
        made = list(Product.objects.filter(slug__in=[p.slug for p in new_products])
                    .order_by("slug"))
        variants = []
        for product in made:
            n = int(product.slug.removeprefix(PREFIX))
            _c, _noun, _en, material, _gem, by_weight, sizes = KINDS[n % len(KINDS)]
            for position, size in enumerate(sizes):
                common = {"product": product, "sku": f"B{n:05d}-{position}", "size": size,
                          "position": position}
                if by_weight:
                    metal, purity = PURITY[material]
                    variants.append(Variant(
                        **common, pricing_mode=PricingMode.BY_WEIGHT, metal=metal, purity=purity,
                        weight_g=Decimal(rng.randint(1500, 25000)) / 1000,
                        labour_fee=Decimal(rng.choice([120, 180, 260, 380]))))
                else:
                    variants.append(Variant(
                        **common, pricing_mode=PricingMode.FIXED,
                        list_price=Decimal(rng.randrange(1999, 89999, 100))))
        Variant.objects.bulk_create(variants, batch_size=5000)
        variant_ids = list(Variant.objects.filter(product__in=made).values_list("id", flat=True))
        StockLevel.objects.bulk_create(
            (StockLevel(store=store, variant_id=variant_id, on_hand=rng.randint(1, 4))
             for variant_id in variant_ids for store in rng.sample(places, 3)),
            batch_size=5000, ignore_conflicts=True)
        if sample is not None:
            ProductImage.objects.bulk_create(
                (ProductImage(product=product, original=sample.original.name,
                              renditions=sample.renditions, alt=product.name)
                 for product in made), batch_size=5000)
