"""Writes the demo catalogue: categories, collections, metal rates, products, SKUs, photos.

Every row is found by its natural key (slug, SKU, lab + number, metal + purity +
moment), so loading twice changes nothing and adds nothing.
"""

import functools
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from catalog.media import image_renditions_make
from catalog.models import (
    Category,
    Certificate,
    Collection,
    MetalRate,
    PricingMode,
    Product,
    ProductImage,
    Variant,
)

from .catalog_data import (
    CATEGORIES,
    COLLECTIONS,
    RATE_BASES,
    SKU_PREFIX,
    ByWeight,
    ProductSpec,
    barcode_for,
    certificate_for,
    metal_rate_for,
    product_specs,
    variant_specs,
)
from .images import photos_job_draw

RATE_TIME = time(9, 30)  # the rate board changes each morning when the gold exchange opens
DAILY_RATE_DAYS = 7
HISTORY_DAYS = 120  # how far back the demo's detailed orders go
RATES_DAYS = 740  # monthly rates back this far: the dashboards' two years (dashboards.py)


@dataclass
class LoadedProduct:
    spec: ProductSpec
    product: Product
    variants: list[Variant]


def categories_load() -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for slug, name, name_en, parent, position in CATEGORIES:
        categories[slug], _ = Category.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "name_en": name_en, "position": position,
                      "parent": categories[parent] if parent else None},
        )
    return categories


def collections_load() -> dict[str, Collection]:
    collections: dict[str, Collection] = {}
    for position, (slug, name, name_en, kind, description, description_en) in enumerate(COLLECTIONS):
        collections[slug], _ = Collection.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "name_en": name_en, "kind": kind, "position": position,
                      "description": description, "description_en": description_en},
        )
    return collections


def _rate_moments(now: datetime) -> Iterator[datetime]:
    """09:30 Shanghai time of each of the last 7 mornings that have begun, and before them
    the 1st of each month back to before the oldest order."""
    tz = timezone.get_current_timezone()
    local_now = timezone.localtime(now)
    newest = local_now.date() if local_now.time() >= RATE_TIME else local_now.date() - timedelta(days=1)
    daily = [newest - timedelta(days=n) for n in range(DAILY_RATE_DAYS)]
    oldest_needed = (local_now - timedelta(days=RATES_DAYS + 1)).date()
    first = oldest_needed.replace(day=1)
    monthly = []
    while first < daily[-1]:
        monthly.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    for day in monthly + daily:
        yield datetime.combine(day, RATE_TIME, tzinfo=tz)


def metal_rates_load(*, now: datetime) -> int:
    """Daily rates for the last week and monthly ones before, for every metal we price by weight.

    Returns how many rows were new. A rate's value depends on its date only,
    so a re-run (even days later) finds the earlier rows unchanged.
    """
    wanted = [(metal, purity, moment) for moment in _rate_moments(now)
              for metal, purity in RATE_BASES]
    existing = set(MetalRate.objects.filter(valid_from__gte=min(m for *_x, m in wanted))
                   .values_list("metal", "purity", "valid_from"))
    new = [
        MetalRate(metal=metal, purity=purity, valid_from=moment,
                  rate_per_gram=metal_rate_for(metal=metal, purity=purity,
                                               day=timezone.localtime(moment).date()))
        for metal, purity, moment in wanted if (metal, purity, moment) not in existing
    ]
    MetalRate.objects.bulk_create(new)
    return len(new)


def _numbered(specs: list[ProductSpec]) -> dict[str, int]:
    """Each product's number in its SKU prefix (R-0001...), from the full list's order,
    so the small demo's SKUs are the same as the full one's."""
    counters: dict[str, int] = {}
    numbers = {}
    for spec in specs:
        prefix = SKU_PREFIX[spec.category]
        counters[prefix] = counters.get(prefix, 0) + 1
        numbers[spec.slug] = counters[prefix]
    return numbers


def demo_specs(*, small: bool) -> tuple[list[ProductSpec], dict[str, int]]:
    """The products to load and their SKU numbers. The small demo (for tests) keeps every
    sixth product and the one-of-a-kind pieces, with one photo each."""
    specs = product_specs()
    numbers = _numbered(specs)
    if small:
        specs = [replace(spec, photos=1) for i, spec in enumerate(specs)
                 if i % 6 == 0 or spec.unique]
    return specs, numbers


def products_load(*, specs: list[ProductSpec], numbers: dict[str, int],
                  categories: dict[str, Category],
                  collections: dict[str, Collection]) -> list[LoadedProduct]:
    """Products with their SKUs and certificates, created or brought up to date."""
    loaded = []
    for spec in specs:
        product, _ = Product.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name, "name_en": spec.name_en, "category": categories[spec.category],
                "description": spec.description, "description_en": spec.description_en,
                "material": spec.material, "gemstone": spec.gemstone, "style": spec.style,
                "audience": spec.audience, "tags": list(spec.tags),
            },
        )
        product.collections.add(*(collections[slug] for slug in spec.collections))
        variants = []
        for vspec in variant_specs(spec, numbers[spec.slug]):
            fields: dict = {"product": product, "size": vspec.size, "position": vspec.position,
                            "barcode": barcode_for(vspec.sku)}
            if isinstance(vspec.pricing, ByWeight):
                fields.update(pricing_mode=PricingMode.BY_WEIGHT, metal=vspec.pricing.metal,
                              purity=vspec.pricing.purity, weight_g=vspec.pricing.weight_g,
                              labour_fee=Decimal(vspec.pricing.labour_fee), list_price=None)
            else:
                fields.update(pricing_mode=PricingMode.FIXED, list_price=Decimal(vspec.pricing.price),
                              labour_fee=Decimal("0"))
            if vspec.stone:
                fields.update(stone_carat=vspec.stone.carat, stone_count=vspec.stone.count)
            variant, _ = Variant.objects.update_or_create(sku=vspec.sku, defaults=fields)
            variants.append(variant)
            if vspec.stone and vspec.stone.certified:
                cert = certificate_for(sku=vspec.sku, carat=vspec.stone.carat,
                                       one_of_a_kind=spec.unique)
                Certificate.objects.update_or_create(
                    lab=cert.lab, number=cert.number,
                    defaults={"variant": variant, "carat": cert.carat, "colour": cert.colour,
                              "clarity": cert.clarity, "cut": cert.cut,
                              "issued_on": cert.issued_on},
                )
        loaded.append(LoadedProduct(spec, product, variants))
    return loaded


# The small demo's drawings, kept for the process: a drawing is a pure function of its job,
# and a test run loads the small demo into a fresh database about ten times (~2 s each).
_photos_drawn = functools.lru_cache(maxsize=64)(photos_job_draw)


def _drawings(jobs: list[tuple], *, parallel: bool) -> Iterator[list[bytes]]:
    """Drawn photos for ``jobs``, in order. With ``parallel`` (and a second CPU) a worker
    process draws while this one stores the previous photos and makes their renditions."""
    if not parallel or len(jobs) < 24 or (os.cpu_count() or 1) < 2:
        yield from map(_photos_drawn, jobs)
        return
    # spawn, not fork: a forked child would share this process's database socket.
    # The workers import only devtools.demo.images (Pillow, no Django).
    context = multiprocessing.get_context("spawn")
    # One drawer is enough: drawing costs half of what renditions cost here, and a
    # second would take CPU from this process, the slower end of the pipeline.
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        yield from pool.map(photos_job_draw, jobs, chunksize=2)


def images_load(*, products: list[LoadedProduct], parallel: bool = True,
                progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Draw the missing photos of each product and make any missing renditions.

    Returns (photos created, renditions made). Photos are stored under
    stable names (products/originals/<slug>-<n>.jpg).
    """
    have = {(product_id, position) for product_id, position in
            ProductImage.objects.filter(product__in=[p.product for p in products])
            .values_list("product_id", "position")}
    todo = [p for p in products
            if any((p.product.pk, i) not in have for i in range(p.spec.photos))]
    jobs = [(p.spec.look, p.spec.slug, p.spec.photos) for p in todo]
    created = 0
    drawn = _drawings(jobs, parallel=parallel)
    for done, (item, photos) in enumerate(zip(todo, drawn, strict=True), start=1):
        for position, data in enumerate(photos):
            if (item.product.pk, position) in have:
                continue
            name = f"products/originals/{item.spec.slug}-{position + 1}.jpg"
            if default_storage.exists(name):  # left over from an interrupted run
                default_storage.delete(name)
            image = ProductImage(product=item.product, position=position, alt=item.product.name)
            image.original.save(name.rsplit("/", 1)[1], ContentFile(data), save=True)
            # Renditions now, while the workers draw the next products.
            image_renditions_make(image=image)
            created += 1
        if progress:
            progress(done)
    made = created
    # Photos of an interrupted run that never got their renditions.
    for image in ProductImage.objects.filter(product__in=[p.product for p in products],
                                             renditions={}):
        image_renditions_make(image=image)
        made += 1
    return created, made

