"""One render per miss across workers, and one vocabulary build per catalog version."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from catalog import search
from catalog.cache import _bump, catalog_version
from catalog.services import product_search_refresh
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race

# What building the vocabulary reads: the words kept per catalog (catalog.facet_counts).
BUILD = "catalog_facetcount"


@pytest.fixture
def shelf(transactional_db):
    for n in range(3):
        VariantFactory(product=ProductFactory(name=f"钻石戒指{n}", name_en=f"Diamond ring {n}"))
    product_search_refresh()


def _counting(marker: str, counts: list):
    def wrapper(execute, sql, params, many, context):
        if marker in sql:
            counts.append(sql)
        return execute(sql, params, many, context)
    return wrapper


def test_concurrent_misses_of_one_page_render_it_once(shelf):
    def visit(_i):
        return Client().get("/en/products/?q=ring")

    results, errors = race(8, visit)
    assert not errors
    assert all(r.status_code == 200 for r in results)
    assert sorted(r["X-Page-Cache"] for r in results) == ["hit"] * 7 + ["miss"]
    assert len({r.content for r in results}) == 1


def test_concurrent_misses_of_a_fragment_build_it_once(shelf):
    from catalog.cache import cached

    builds = []

    def build():
        builds.append(1)
        import time
        time.sleep(0.05)
        return "fragment"

    results, errors = race(6, lambda _i: cached("catalog:test:fragment", build))
    assert not errors and results == ["fragment"] * 6
    assert len(builds) == 1


def test_the_vocabulary_is_built_once_for_all_workers(shelf):
    search._loaded.clear()
    reads = []

    def words(_i):
        search._loaded.clear()  # each racer stands for a worker without its copy
        with connection.execute_wrapper(_counting(BUILD, reads)):
            return search.vocabulary()

    results, errors = race(6, words)
    assert not errors
    assert len(reads) == 1
    assert all("戒指" in r.chinese and "diamond" in r.latin for r in results)


def test_while_one_worker_builds_the_new_vocabulary_the_others_use_the_last(shelf):
    search._loaded.clear()
    old = search.vocabulary()
    _bump()  # a catalog change
    ProductFactory(name="翡翠手镯", name_en="Jade bangle")
    product_search_refresh()
    search._loaded.clear()
    cache.add(f"lock:catalog:vocabulary:{catalog_version()}", 1, 10)  # another worker builds
    reads = []
    with connection.execute_wrapper(_counting(BUILD, reads)):
        lent = search.vocabulary()
    assert not reads and lent.chinese == old.chinese
    assert not search._loaded  # lent, not kept
    cache.delete(f"lock:catalog:vocabulary:{catalog_version()}")
    assert "jade" in search.vocabulary().latin


def test_the_builder_stores_its_copy_and_lets_go_of_the_lock_at_once():
    """The copy and the lock's release go in one round trip (Flight.store); a build that
    fails lets go of the lock too, so the next asker builds."""
    from catalog.cache import cached

    key = "catalog:test:pipelined"
    cache.delete_many([key, f"lock:{key}", "catalog:test:failing"])
    assert cached(key, lambda: "built") == "built"
    assert cache.get(f"lock:{key}") is None and cache.get(key).value == "built"
    assert cached(key, lambda: "again") == "built"  # the stored copy serves

    def fail():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cached("catalog:test:failing", fail)
    assert cache.get("lock:catalog:test:failing") is None
    assert cached("catalog:test:failing", lambda: "second") == "second"
