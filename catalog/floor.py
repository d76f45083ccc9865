"""Which products have a piece at which shop: kept, not counted (issue 18).

The unfiltered list's "Available at" facet used to count ``DISTINCT product`` per shop
over every available stock row (some 300 ms at 10,000 products), again after every sale
that took a variant's last piece somewhere. Two small tables keep that answer instead:

- ``FloorProduct`` (shop, product): how many active variants of the (active) product
  have a piece available there. Two sales of different variants of one product at one
  shop both move this one row (the UPDATE locks it), so the count stays exact where a
  "product available yes/no" flag would race;
- ``FloorShop`` (shop): how many products have ``variants > 0`` there, moved by one
  when a FloorProduct row crosses zero. The facet reads these rows: one cheap query.

``floor_moved`` is called by the stock services (stores.services) in the transaction of
the stock UPDATE that took a variant's last available piece at a shop or brought one
back (the UPDATE's RETURNING tells them, at no query), after every stock UPDATE of the
call: the rows here are locked after the stock rows, FloorProduct rows in (shop,
product) order, then FloorShop rows in shop order, so two sales never wait on each other
in a cycle. Only crossings cost anything (two statements); a sale that leaves pieces
costs nothing here.

``floor_rebuild`` counts the whole answer again (or a few products' part of it) under a
table lock that waits for the sales in flight and holds off new ones until it commits, so
no move is lost or counted twice: products_changed and products_set_active call it, and
so do the bulk loaders (load_bench_data, load_demo) and the ``floor_counts`` command.
``floor_reconcile`` (nightly, catalog.tasks) compares kept with counted and fixes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction

from .facet_counts import word_stores_moved, word_stores_recount
from .models import FloorProduct, FloorShop, Product, Variant

log = logging.getLogger(__name__)

FP = FloorProduct._meta.db_table
FS = FloorShop._meta.db_table
VARIANT = Variant._meta.db_table
PRODUCT = Product._meta.db_table


def _stock_table() -> str:
    # The stock rows belong to stores (a layer above): named through the relation only.
    return Variant._meta.get_field("stock_levels").related_model._meta.db_table


def floor_moved(moves: Iterable[tuple[int, int, int]]) -> None:
    """``moves``: (store id, variant id, +1 or -1), a variant's available pieces at a shop
    that went from none to some (+1) or from some to none (-1) in the current transaction.
    Call inside that transaction, after its stock UPDATEs. Inactive variants and products
    are not kept (their activation rebuilds them)."""
    summed: dict[tuple[int, int], int] = defaultdict(int)
    for store_id, variant_id, delta in moves:
        summed[(store_id, variant_id)] += delta
    rows = sorted((key, delta) for key, delta in summed.items() if delta)
    if not rows:
        return
    values = ", ".join(["(%s::int, %s::int, %s::int)"] * len(rows))
    params = [x for (store_id, variant_id), delta in rows for x in (store_id, variant_id, delta)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH m AS (SELECT m.store_id, v.product_id, SUM(m.delta)::int AS delta "
            f"  FROM (VALUES {values}) AS m(store_id, variant_id, delta) "
            f"  JOIN {VARIANT} v ON v.id = m.variant_id AND v.is_active "
            f"  JOIN {PRODUCT} p ON p.id = v.product_id AND p.is_active "
            f"  GROUP BY m.store_id, v.product_id), "
            f"up AS (INSERT INTO {FP} (store_id, product_id, variants) "
            f"  SELECT store_id, product_id, delta FROM m WHERE delta <> 0 "
            f"  ORDER BY store_id, product_id "
            f"  ON CONFLICT (store_id, product_id) "
            f"  DO UPDATE SET variants = {FP}.variants + EXCLUDED.variants "
            f"  RETURNING store_id, product_id, variants) "
            f"SELECT up.store_id, up.product_id, up.variants, m.delta "
            f"FROM up JOIN m USING (store_id, product_id)",
            params)
        moved = cursor.fetchall()
        shops: dict[int, int] = defaultdict(int)
        crossed: list[tuple[int, int, int]] = []
        for store_id, product_id, variants, delta in moved:
            before = variants - delta
            if before <= 0 < variants:
                shops[store_id] += 1
                crossed.append((store_id, product_id, 1))
            elif variants <= 0 < before:
                shops[store_id] -= 1
                crossed.append((store_id, product_id, -1))
        changes = sorted((store_id, n) for store_id, n in shops.items() if n)
        if changes:
            cursor.execute(
                f"INSERT INTO {FS} (store_id, products) VALUES "
                + ", ".join(["(%s::int, %s::int)"] * len(changes))
                + f" ON CONFLICT (store_id) DO UPDATE SET products = {FS}.products + EXCLUDED.products",
                [x for change in changes for x in change])
        word_stores_moved(cursor, crossed)  # the searches' shop counts (catalog.facet_counts)


def _counted_sql(product_ids: list[int] | None) -> tuple[str, list]:
    where, params = ("AND p.id = ANY(%s)", [product_ids]) if product_ids is not None else ("", [])
    return (f"SELECT sl.store_id, v.product_id, COUNT(*) FROM {_stock_table()} sl "
            f"JOIN {VARIANT} v ON v.id = sl.variant_id AND v.is_active "
            f"JOIN {PRODUCT} p ON p.id = v.product_id AND p.is_active "
            f"WHERE sl.on_hand > sl.reserved {where} GROUP BY sl.store_id, v.product_id",
            params)


def _lock(cursor) -> None:
    # Waits for the moves in flight (they hold ROW EXCLUSIVE) and holds off new ones; two
    # rebuilds take turns (the mode conflicts with itself). The counts below then see
    # every committed stock move, and the moves not yet committed add theirs afterwards.
    cursor.execute(f"LOCK TABLE {FP}, {FS} IN SHARE ROW EXCLUSIVE MODE")


def _shops_rewrite(cursor) -> None:
    cursor.execute(f"DELETE FROM {FS}")
    cursor.execute(f"INSERT INTO {FS} (store_id, products) SELECT store_id, COUNT(*) FROM {FP} "
                   "WHERE variants > 0 GROUP BY store_id")


def floor_rebuild(*, product_ids: Iterable[int] | None = None) -> None:
    """Count again which products have a piece at which shop: all of them, or only
    ``product_ids`` (their rows, then every shop's total from the kept rows)."""
    ids = None if product_ids is None else sorted(set(product_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        if ids is None:
            cursor.execute(f"DELETE FROM {FP}")
        else:
            cursor.execute(f"DELETE FROM {FP} WHERE product_id = ANY(%s) "
                           "RETURNING store_id, product_id, variants > 0", [ids])
            before = {(store_id, pk) for store_id, pk, some in cursor.fetchall() if some}
        sql, params = _counted_sql(ids)
        cursor.execute(f"INSERT INTO {FP} (store_id, product_id, variants) {sql} "
                       "RETURNING store_id, product_id, variants > 0", params)
        after = {(store_id, pk) for store_id, pk, some in cursor.fetchall() if some}
        _shops_rewrite(cursor)
        # The searches' shop counts (catalog.facet_counts) follow.
        if ids is None:
            word_stores_recount(cursor)
        else:
            word_stores_moved(cursor, [(*key, 1) for key in after - before]
                              + [(*key, -1) for key in before - after])


def floor_reconcile() -> int:
    """Compare the kept counts with the stock rows, and fix them when they differ.
    Returns how many shop-and-product rows or shop totals differed (0: all exact)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        sql, params = _counted_sql(None)
        cursor.execute(sql, params)
        counted = {(s, p): n for s, p, n in cursor.fetchall()}
        cursor.execute(f"SELECT store_id, product_id, variants FROM {FP} WHERE variants <> 0")
        kept = {(s, p): n for s, p, n in cursor.fetchall()}
        shops_counted: dict[int, int] = defaultdict(int)
        for store_id, _product_id in counted:
            shops_counted[store_id] += 1
        cursor.execute(f"SELECT store_id, products FROM {FS} WHERE products <> 0")
        shops_kept = dict(cursor.fetchall())
        wrong = sum(1 for key in counted.keys() | kept.keys() if counted.get(key) != kept.get(key))
        wrong += sum(1 for key in shops_counted.keys() | shops_kept.keys()
                     if shops_counted.get(key) != shops_kept.get(key))
        if wrong:
            log.warning("floor counts: %s rows differed from the stock, counted again", wrong)
            cursor.execute(f"DELETE FROM {FP}")
            cursor.execute(f"INSERT INTO {FP} (store_id, product_id, variants) {sql}", params)
            _shops_rewrite(cursor)
            word_stores_recount(cursor)
    return wrong


def floor_shops() -> list[dict]:
    """Per active shop with any, how many products have a piece there (one query), by code."""
    return list(FloorShop.objects.filter(products__gt=0, store__kind="store",
                                         store__is_active=True)
                .values("store__code", "store__name", "store__name_en", "products")
                .order_by("store__code"))
