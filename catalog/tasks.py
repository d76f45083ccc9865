"""Celery tasks of the catalog: thin, idempotent wrappers around catalog.services."""

from celery import shared_task
from django.core.cache import cache

RATES_SEEN_KEY = "catalog:rates-in-force"


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def prices_refresh_task(*, reason: str = "refresh") -> int:
    from .services import prices_refresh

    return prices_refresh(reason=reason)


@shared_task(ignore_result=True)
def prices_refresh_due() -> int:
    """Every minute: when the set of rates in force changed (a rate entered for later
    has started), refresh the prices. Cheap when nothing changed: one query."""
    from .models import MetalRate
    from .pricing import rates_in_force
    from .services import prices_refresh

    seen = sorted(rates_in_force().items())
    signature = str(seen) + str(MetalRate.objects.count())
    if cache.get(RATES_SEEN_KEY) == signature:
        return 0
    changed = prices_refresh(reason="metal_rate")
    cache.set(RATES_SEEN_KEY, signature, timeout=None)
    return changed


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def image_renditions_task(*, image_id: int) -> None:
    from .cache import catalog_changed
    from .media import image_renditions_make
    from .models import ProductImage

    image = ProductImage.objects.filter(id=image_id).first()
    if image is None:  # deleted before we got to it
        return
    image_renditions_make(image=image)
    catalog_changed()


@shared_task(ignore_result=True)
def floor_reconcile_task() -> int:
    """Nightly: the list's kept counts compared with the catalog and the stock, and fixed
    (catalog.facet_counts, catalog.floor). Returns how many rows differed."""
    from .facet_counts import facets_reconcile
    from .floor import floor_reconcile

    return facets_reconcile() + floor_reconcile()
