"""What the catalog pages cache, and what makes a cached copy stale.

Three kinds of token, each a fresh time-based number (never a counter, so a flushed
cache can never hand a process an old token with old data behind it), moved after
commit (moving earlier would let a concurrent reader cache the old rows under the new
token):

- the catalog version (``catalog_changed()``): products, prices, metal rates, images,
  categories. It is in every key, so such a change makes every cached page unreachable.
- a stock token per variant (``stock_changed(variant_ids=...)``): the pieces on each
  shop floor, as the product page and the product API show them.
- the floor token: which products have a piece at which shop at all (the list's "Available
  at" facet and its store filter). A sale moves it only when it takes a variant's last
  available piece at a shop (or a release brings one back), not on every sale.

Pages and fragments do not carry the stock and floor tokens in their keys: a cached copy
records the tokens it was built with (``depend_on``; the selectors that read stock call
it *before* their query) and is served only while they all stand (one MGET). So a sale
re-renders the pages that show that variant's stock, and the list pages only when a
piece sells out somewhere.

A miss is rendered once across processes: the first asker takes a short Redis lock
(``single_flight``), the others wait for its copy (a page may show prices and stock, so
no stale page is served); data for which a moment's staleness is harmless (the search
vocabulary) is served stale meanwhile by its owner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from django.core.cache import cache
from django.db import transaction

KEY = "catalog:version"
FLOOR_KEY = "catalog:floor"
STOCK_KEY = "catalog:stock:{}"
NEVER_KEY = "catalog:never"  # never set: what depends on it is stale at once
LOCK_TIMEOUT = 10  # seconds a lock outlives a crashed builder at most
WAIT_STEP = 0.005
WAIT_MAX = 3.0  # a waiter builds the value itself after this long


def _token(key: str) -> int:
    version = cache.get(key)
    if version is None:
        version = time.time_ns()
        if not cache.add(key, version, timeout=None):  # another process set it first
            version = cache.get(key)
    return int(version)


def catalog_version() -> int:
    return _token(KEY)


def request_catalog_version(request) -> int:
    """The catalog version as ``request`` first read it: one Redis read per request for
    every key and fragment it builds (the page, its body, the chrome)."""
    version = getattr(request, "_catalog_version", None)
    if version is None:
        version = request._catalog_version = catalog_version()
    return version


def _bump() -> None:
    cache.set(KEY, time.time_ns(), timeout=None)


def catalog_changed() -> None:
    """Invalidate every cached catalog view once the current transaction commits."""
    transaction.on_commit(_bump)


def stock_changed(*, variant_ids: Iterable[int], floor: bool) -> None:
    """After commit, move the stock tokens of ``variant_ids`` (the product pages that show
    them), and with ``floor`` the floor token too (a variant's availability at a shop
    crossed zero, or may have: the list pages)."""
    keys = {STOCK_KEY.format(pk) for pk in variant_ids}
    if floor:
        keys.add(FLOOR_KEY)
    if keys:
        transaction.on_commit(lambda: cache.set_many(dict.fromkeys(keys, time.time_ns()),
                                                     timeout=None))


# --- Dependencies: what a cached copy was built from ----------------------------------

_collectors: ContextVar[tuple[dict, ...]] = ContextVar("catalog_cache_collectors", default=())


def depend_on(tokens: dict[str, Any]) -> None:
    """Record ``tokens`` (key -> value as read) in every copy being built right now."""
    for deps in _collectors.get():
        for key, value in tokens.items():
            deps.setdefault(key, value)  # the first value read is the one the data followed


def depend_on_stock(variant_ids: Iterable[int]) -> None:
    """Call before reading the stock of ``variant_ids`` for a page."""
    if _collectors.get():
        keys = [STOCK_KEY.format(pk) for pk in variant_ids]
        found = cache.get_many(keys)
        depend_on({key: found.get(key) for key in keys})


def depend_on_floor() -> None:
    """Call before reading which products have a piece at which shop."""
    if _collectors.get():
        depend_on({FLOOR_KEY: _token(FLOOR_KEY)})


@contextmanager
def collecting():
    """The tokens read while the block builds a copy (nested copies pass theirs up)."""
    deps: dict[str, Any] = {}
    reset = _collectors.set((*_collectors.get(), deps))
    try:
        yield deps
    finally:
        _collectors.reset(reset)


@dataclass(frozen=True)
class Entry:
    value: Any
    deps: dict[str, Any] = field(default_factory=dict)


def fresh(entry: Any) -> bool:
    """``entry`` is an Entry whose recorded tokens all still stand (one MGET, or none)."""
    if not isinstance(entry, Entry):
        return False
    if entry.deps:
        now = cache.get_many(list(entry.deps))
        if any(now.get(key) != value for key, value in entry.deps.items()):
            return False
    depend_on(entry.deps)
    return True


# --- One build per miss ---------------------------------------------------------------


class Flight:
    """The builder's hold on a ``single_flight`` lock (true in a test, as any object).
    ``store`` writes what it built and lets go of the lock in one Redis round trip (a
    cold page builds five such copies: five round trips fewer); a lock not let go of so
    is deleted when the block ends."""

    def __init__(self, lock: str):
        self.lock, self.held = lock, True

    def store(self, key: str, value: Any, timeout: int) -> None:
        """``cache.set(key, value, timeout)``, then the lock deleted, pipelined."""
        backend = getattr(cache, "_cache", None)
        if not hasattr(backend, "get_client") or not hasattr(backend, "_serializer"):
            cache.set(key, value, timeout)  # not Django's Redis cache: two calls
            return
        name = cache.make_and_validate_key(key)
        seconds = cache.get_backend_timeout(timeout)
        pipe = backend.get_client(name, write=True).pipeline(transaction=False)
        if seconds == 0:
            pipe.delete(name)
        else:
            pipe.set(name, backend._serializer.dumps(value), ex=seconds)
        pipe.delete(cache.make_and_validate_key(self.lock))
        pipe.execute()
        self.held = False


@contextmanager
def single_flight(key: str, *, wait: bool = True):
    """Yield a ``Flight`` (true) to the one caller that should build ``key`` (it holds a
    short lock), False to the others: with ``wait``, once the builder finished (or
    ``WAIT_MAX`` passed), so they look in the cache again; without, at once
    (``wait_for`` later)."""
    lock = f"lock:{key}"
    if cache.add(lock, 1, LOCK_TIMEOUT):
        flight = Flight(lock)
        try:
            yield flight
        finally:
            if flight.held:
                cache.delete(lock)
        return
    if wait:
        wait_for(key)
    yield False


def wait_for(key: str) -> None:
    """Until nobody builds ``key`` (its single_flight lock is gone), ``WAIT_MAX`` at most."""
    lock = f"lock:{key}"
    deadline = time.monotonic() + WAIT_MAX
    while time.monotonic() < deadline and cache.get(lock) is not None:
        time.sleep(WAIT_STEP)


def cached(key: str, build: Callable[[], Any], timeout: int = 600, *,
           stale_ok: bool = False):
    """``build()`` once per key while the catalog version and the tokens it read stand;
    one build across processes at a time. With ``stale_ok`` (only for what may lag a
    sale by a moment: never a piece shown as available) the others are served the
    previous copy meanwhile instead of waiting, and the copies that include it are
    marked stale, so they are rebuilt on the next request."""
    entry = cache.get(key)
    if fresh(entry):
        return entry.value
    stale = entry if stale_ok and isinstance(entry, Entry) else None
    with single_flight(key, wait=stale is None) as builder:
        if not builder and stale is not None:
            # A token that is never set: a copy including this one is stale at once.
            depend_on({NEVER_KEY: time.time_ns()})
            return stale.value
        # Look again, the lock's holder too: another process may have built the copy and
        # let go of the lock between the first look and this one (built twice then).
        entry = cache.get(key)
        if fresh(entry):
            return entry.value
        with collecting() as deps:
            value = build()
        if builder:
            builder.store(key, Entry(value, deps), timeout)
        else:
            cache.set(key, Entry(value, deps), timeout)
    depend_on(deps)
    return value


def page_key(request, kind: str) -> str:
    """A cache key for what ``request`` shows: kind, version, language and the full path."""
    from django.utils.translation import get_language

    digest = blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"catalog:{kind}:{request_catalog_version(request)}:{get_language()}:{digest}"
