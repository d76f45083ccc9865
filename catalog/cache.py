"""One version token for everything the catalog pages cache.

Every write that changes what a shopper sees (a product, a price or rate, stock,
images) calls ``catalog_changed()``; cached pages and derived data (search
vocabulary, facet counts) carry the token in their keys, so a change makes them
unreachable at once. The bump happens after commit: bumping earlier would let a
concurrent reader cache the old rows under the new token.

The token is a fresh time-based number, not a counter, so a cache that was
flushed can never hand a process an old token with old data behind it.
"""

import time

from django.core.cache import cache
from django.db import transaction

KEY = "catalog:version"


def catalog_version() -> int:
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, time.time_ns(), timeout=None)
        version = cache.get(KEY)
    return int(version)


def _bump() -> None:
    cache.set(KEY, time.time_ns(), timeout=None)


def catalog_changed() -> None:
    """Invalidate every cached catalog view once the current transaction commits."""
    transaction.on_commit(_bump)


def page_key(request, kind: str) -> str:
    """A cache key for what ``request`` shows: kind, version, language and the full path."""
    from hashlib import blake2b

    from django.utils.translation import get_language

    digest = blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"catalog:{kind}:{catalog_version()}:{get_language()}:{digest}"


def cached(key: str, build, timeout: int = 600):
    """``build()`` once per key while the catalog version stands."""
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value
