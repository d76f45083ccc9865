"""The list's facets kept, not counted (issue 18): catalog.floor's approach for the
facets that follow the catalog alone (category, collection, material, gemstone, metal,
size, price band).

Counting each facet over the whole catalog with GROUP BY on the real tables took some
130 ms at 10,000 products on every cold list (a join to the variants and a DISTINCT per
facet). Two tables keep the answer instead, as FloorProduct and FloorShop do for the
shops' facet:

- ``FacetProduct`` (product, facet, value): one row per value an active product shows
  under a facet, exactly as the list's filter of that value finds it (catalog.filters):
  its own category (the page adds it to every category above), each collection, its
  material and gemstone, each metal and size of an *active* variant, and the price band
  its ``price_from`` falls in. A filtered list or a search counts every facet in one
  grouped query over these rows of the products it matched, instead of one join per facet.
- ``FacetCount`` (facet, value): how many active products show that value: the
  unfiltered list's facets, one query whatever the catalog's size.

``facets_refresh`` writes a few products' rows again and moves the totals by the
difference, in the caller's transaction: the catalog services call it wherever what a
facet shows changes (products_changed: an edit of a product, its variants or its
collections; products_set_active: publish, unpublish; prices_refresh: a new price moves
``price_from`` across a band). The writers take turns on a table lock (catalog edits are
rare; sales never touch these tables, stock is the shops' facet's, catalog.floor), so
two edits of one product cannot both count it. ``facets_rebuild`` counts everything
again (the bulk loaders, ``manage.py floor_counts --rebuild``, a deletion: the rows of a
deleted product go with it, its totals must follow); ``facets_reconcile`` (nightly, with
the shops' counts) compares and fixes.

The search vocabulary (catalog.search) is kept the same way: ``SearchWord`` (product,
kind, word) holds the words of each active product's search document (``document_words``),
``FacetCount`` rows of facet "word" and "piece" how many products have each, so a cold
vocabulary reads some hundred totals instead of every document. ``product_search_refresh``
calls ``facets_refresh`` after writing the documents.

Changing ``PRICE_BANDS`` changes what the rows say: run ``manage.py floor_counts
--rebuild`` after deploying it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, QuerySet

from .models import (
    FacetCount,
    FacetProduct,
    FloorProduct,
    FloorShop,
    Product,
    SearchWord,
    Variant,
    WordFacetCount,
    WordProduct,
)
from .search import CJK_RUN, PIECE, WORD, document_words

log = logging.getLogger(__name__)

PRICE_BANDS: list[tuple[Decimal | None, Decimal | None]] = [
    (None, Decimal("2999")),
    (Decimal("3000"), Decimal("9999")),
    (Decimal("10000"), Decimal("29999")),
    (Decimal("30000"), None),
]

FP = FacetProduct._meta.db_table
FC = FacetCount._meta.db_table
SW = SearchWord._meta.db_table
WORDS = (WORD, PIECE)  # the search vocabulary's totals, beside the facets' in FacetCount
WP = WordProduct._meta.db_table
WC = WordFacetCount._meta.db_table
FLOOR = FloorProduct._meta.db_table
FLOOR_SHOPS = FloorShop._meta.db_table
PRODUCT = Product._meta.db_table
VARIANT = Variant._meta.db_table
COLLECTIONS = Product.collections.through._meta.db_table


def band_value(low: Decimal | None, high: Decimal | None) -> str:
    """A price band as the list's links and the kept rows name it: "3000-9999", "-2999"."""
    return f"{low or ''}-{high or ''}"


def _rows_sql(product_ids: list[int] | None) -> tuple[str, list]:
    """SELECT (product_id, facet, value) for the active products (all, or ``product_ids``)."""
    where, ids = "p.is_active", []
    if product_ids is not None:
        where, ids = "p.is_active AND p.id = ANY(%s)", [product_ids]
    parts: list[tuple[str, list]] = [
        (f"SELECT p.id, 'category', p.category_id::text FROM {PRODUCT} p WHERE {where}", ids),
        (f"SELECT p.id, 'material', p.material FROM {PRODUCT} p "
         f"WHERE {where} AND p.material <> ''", ids),
        (f"SELECT p.id, 'gemstone', p.gemstone FROM {PRODUCT} p "
         f"WHERE {where} AND p.gemstone <> ''", ids),
        (f"SELECT pc.product_id, 'collection', pc.collection_id::text FROM {COLLECTIONS} pc "
         f"JOIN {PRODUCT} p ON p.id = pc.product_id WHERE {where}", ids),
    ]
    for facet in ("metal", "size"):  # the filters ask for an *active* variant with it
        parts.append((f"SELECT DISTINCT p.id, '{facet}', v.{facet} FROM {PRODUCT} p "
                      f"JOIN {VARIANT} v ON v.product_id = p.id AND v.is_active "
                      f"WHERE {where} AND v.{facet} <> ''", ids))
    for low, high in PRICE_BANDS:
        condition, bounds = "p.price_from IS NOT NULL", []
        if low is not None:
            condition, bounds = condition + " AND p.price_from >= %s", [*bounds, low]
        if high is not None:
            condition, bounds = condition + " AND p.price_from <= %s", [*bounds, high]
        parts.append((f"SELECT p.id, 'price', %s FROM {PRODUCT} p WHERE {where} AND {condition}",
                      [band_value(low, high), *ids, *bounds]))
    return (" UNION ALL ".join(sql for sql, _params in parts),
            [param for _sql, params in parts for param in params])


def _lock(cursor) -> None:
    # Catalog writers take turns here (the mode conflicts with itself): a product's rows
    # are read, deleted and written again by one of them at a time. The shop floor's
    # tables first, as catalog.floor locks them (and as a sale writes them, then the
    # words' shop counts): the words' counts follow the products' shops, which must not
    # move meanwhile.
    cursor.execute(f"LOCK TABLE {FLOOR}, {FLOOR_SHOPS} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"LOCK TABLE {FP}, {SW}, {FC}, {WP}, {WC} IN SHARE ROW EXCLUSIVE MODE")


# --- The words' matches and facet counts (WordProduct, WordFacetCount) -----------------
#
# A search for one Chinese catalog word (戒指: some 2,900 of 10,000 pieces) counted its
# facets over every match (FacetProduct rows, FloorProduct rows: ~75 ms at 10,000). The
# vocabulary is finite, so each word's matches and their counts are kept instead: the
# products whose document holds the word (``WordProduct``) and, per facet value, how many
# of them show it (``WordFacetCount``; facet "" counts them all, facet "store" the shops
# with a piece available, which catalog.floor moves when a shop's last piece of a product
# sells or comes back). A product's edit moves the counts of its words by the difference;
# a word new to the catalog is matched against every document once.


def _kept_words(cursor) -> set[str]:
    """The Chinese words of the search vocabulary (catalog.search.Vocabulary.chinese)."""
    cursor.execute(f"SELECT value FROM {FC} WHERE facet = %s AND products > 0", [WORD])
    return {word for (word,) in cursor.fetchall() if CJK_RUN.fullmatch(word)}


def _word_matches_fill(cursor, words: list[str]) -> None:
    """``WordProduct`` rows of ``words``: every active product whose document holds one."""
    cursor.execute(f"INSERT INTO {WP} (word, product_id, in_name, popularity) {_MATCHES}",
                   [words])


# (word, product, in_name, popularity) of the active products whose document holds a word.
_MATCHES = (f"SELECT w.word, p.id, strpos(p.name, w.word) > 0, p.popularity FROM {PRODUCT} p "
            "JOIN unnest(%s::text[]) AS w(word) ON strpos(p.search_document, w.word) > 0 "
            "WHERE p.is_active")


def word_popularity_refresh() -> None:
    """The words' matches take the products' popularity (their best-match order); for
    catalog.services.product_popularity_set, in its transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {WP} SET popularity = p.popularity FROM {PRODUCT} p "
                       f"WHERE p.id = {WP}.product_id AND {WP}.popularity <> p.popularity")


def _word_counts_sql(words: list[str] | None, store_only: bool = False) -> tuple[str, list]:
    """SELECT (word, facet, value, products) counted from the kept rows."""
    where, params = ("WHERE wp.word = ANY(%s)", [words]) if words is not None else ("", [])
    store = (f"SELECT wp.word, 'store', fl.store_id::text, COUNT(*)::int FROM {WP} wp "
             f"JOIN {FLOOR} fl ON fl.product_id = wp.product_id AND fl.variants > 0 "
             f"{where} GROUP BY wp.word, fl.store_id")
    if store_only:
        return store, params
    return (f"SELECT wp.word, fp.facet, fp.value, COUNT(*)::int FROM {WP} wp "
            f"JOIN {FP} fp ON fp.product_id = wp.product_id {where} "
            "GROUP BY wp.word, fp.facet, fp.value "
            f"UNION ALL SELECT wp.word, '', '', COUNT(*)::int FROM {WP} wp {where} "
            f"GROUP BY wp.word UNION ALL {store}", params * 3)


def _word_counts_recount(cursor, words: list[str] | None = None) -> None:
    """Count ``WordFacetCount`` again from the kept matches (of ``words``, or all)."""
    if words is None:
        cursor.execute(f"DELETE FROM {WC}")
    else:
        cursor.execute(f"DELETE FROM {WC} WHERE word = ANY(%s)", [words])
    sql, params = _word_counts_sql(words)
    cursor.execute(f"INSERT INTO {WC} (word, facet, value, products) {sql}", params)


def _words_rebuild(cursor) -> None:
    """Every kept word's matches and counts again (the vocabulary's totals must be right)."""
    cursor.execute(f"DELETE FROM {WP}")
    _word_matches_fill(cursor, sorted(_kept_words(cursor)))
    _word_counts_recount(cursor)


def _word_counts_move(cursor, changes: Counter) -> None:
    """Move ``WordFacetCount`` rows by ``changes`` ((word, facet, value) -> difference),
    in key order (the rows are locked in the same order by every writer)."""
    rows = sorted((key, n) for key, n in changes.items() if n)
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        cursor.execute(
            f"INSERT INTO {WC} (word, facet, value, products) VALUES "
            + ", ".join(["(%s, %s, %s, %s::int)"] * len(chunk))
            + f" ON CONFLICT (word, facet, value) DO UPDATE SET products = {WC}.products "
              "+ EXCLUDED.products",
            [x for (word, facet, value), n in chunk for x in (word, facet, value, n)])


def word_stores_moved(cursor, moves: Iterable[tuple[int, int, int]]) -> None:
    """``moves``: (shop id, product id, +1 or -1), a product that came to have a piece
    available at a shop (+1) or has none left there (-1): the shop counts of the words
    that find it move with it. For catalog.floor, in the transaction of the move, after
    its FloorProduct and FloorShop writes (the lock order of every writer)."""
    rows = sorted((store_id, product_id, delta) for store_id, product_id, delta in moves if delta)
    if not rows:
        return
    values = ", ".join(["(%s::int, %s::int, %s::int)"] * len(rows))
    cursor.execute(
        f"INSERT INTO {WC} (word, facet, value, products) "
        f"SELECT wp.word, 'store', m.store_id::text, SUM(m.delta)::int "
        f"FROM (VALUES {values}) AS m(store_id, product_id, delta) "
        f"JOIN {WP} wp ON wp.product_id = m.product_id "
        "GROUP BY wp.word, m.store_id HAVING SUM(m.delta) <> 0 ORDER BY 1, 3 "
        f"ON CONFLICT (word, facet, value) DO UPDATE SET products = {WC}.products "
        "+ EXCLUDED.products",
        [x for row in rows for x in row])


def word_stores_recount(cursor) -> None:
    """Every word's shop counts again (catalog.floor, after it counted every shop again)."""
    cursor.execute(f"DELETE FROM {WC} WHERE facet = 'store'")
    sql, params = _word_counts_sql(None, store_only=True)
    cursor.execute(f"INSERT INTO {WC} (word, facet, value, products) {sql}", params)


def _words_refresh(cursor, ids: list[int], old_rows: list, new_rows: list,
                   new_words: set[str], gone_words: set[str]) -> None:
    """The matches of ``ids`` written again and their words' counts moved by what changed
    (``old_rows``, ``new_rows``: their (product, facet, value) rows before and after);
    a word new to the catalog matched against every document, a word gone forgotten."""
    cursor.execute(f"DELETE FROM {WP} WHERE product_id = ANY(%s) RETURNING product_id, word",
                   [ids])
    old_words: dict[int, set[str]] = {}
    for pk, word in cursor.fetchall():
        old_words.setdefault(pk, set()).add(word)
    steady = sorted(_kept_words(cursor) - new_words)
    cursor.execute(f"SELECT id, search_document, name, popularity FROM {PRODUCT} "
                   "WHERE is_active AND id = ANY(%s)", [ids])
    new_of: dict[int, list[str]] = {}
    matches = []
    for pk, document, name, popularity in cursor.fetchall():
        new_of[pk] = [word for word in steady if word in document]
        matches += [(word, pk, word in name, popularity) for word in new_of[pk]]
    if matches:
        columns = [list(column) for column in zip(*matches, strict=True)]
        cursor.execute(f"INSERT INTO {WP} (word, product_id, in_name, popularity) "
                       "SELECT * FROM unnest(%s::text[], %s::int[], %s::bool[], %s::int[])",
                       columns)
    cursor.execute(f"SELECT product_id, store_id::text FROM {FLOOR} "
                   "WHERE variants > 0 AND product_id = ANY(%s)", [ids])
    shops: dict[int, list[tuple[str, str]]] = {}
    for pk, store in cursor.fetchall():
        shops.setdefault(pk, []).append(("store", store))
    shown_old: dict[int, list[tuple[str, str]]] = {}
    shown_new: dict[int, list[tuple[str, str]]] = {}
    for rows, shown in ((old_rows, shown_old), (new_rows, shown_new)):
        for pk, facet, value in rows:
            shown.setdefault(pk, [("", "")] + shops.get(pk, [])).append((facet, value))
    changes: Counter = Counter()
    for pk in ids:
        for word in old_words.get(pk, ()):
            for facet, value in shown_old.get(pk, [("", "")] + shops.get(pk, [])):
                changes[(word, facet, value)] -= 1
        for word in new_of.get(pk, ()):
            for facet, value in shown_new.get(pk, [("", "")] + shops.get(pk, [])):
                changes[(word, facet, value)] += 1
    gone = sorted(gone_words)
    _word_counts_move(cursor, Counter({key: n for key, n in changes.items()
                                       if key[0] not in gone_words}))
    if gone:
        cursor.execute(f"DELETE FROM {WP} WHERE word = ANY(%s)", [gone])
        cursor.execute(f"DELETE FROM {WC} WHERE word = ANY(%s)", [gone])
    if new_words:
        new = sorted(new_words)
        cursor.execute(f"DELETE FROM {WP} WHERE word = ANY(%s)", [new])
        _word_matches_fill(cursor, new)
        _word_counts_recount(cursor, new)


def _words_of(cursor, product_ids: list[int] | None) -> list[tuple[int, str, str]]:
    """(product id, kind, word) of the active products' search documents (all, or these)."""
    where, params = ("AND id = ANY(%s)", [product_ids]) if product_ids is not None else ("", [])
    cursor.execute(f"SELECT id, search_document FROM {PRODUCT} WHERE is_active {where}", params)
    return [(pk, kind, word) for pk, document in cursor.fetchall()
            for kind, word in document_words(document)]


def _words_insert(cursor, rows: list[tuple[int, str, str]]) -> None:
    if rows:
        ids, kinds, words = zip(*rows, strict=True)
        cursor.execute(f"INSERT INTO {SW} (product_id, kind, word) "
                       "SELECT * FROM unnest(%s::int[], %s::text[], %s::text[])",
                       [list(ids), list(kinds), list(words)])


_COUNTED = (f"SELECT facet, value, COUNT(*)::int AS n FROM {FP} GROUP BY facet, value "
            f"UNION ALL SELECT kind, word, COUNT(*)::int FROM {SW} GROUP BY kind, word")


def _totals_rewrite(cursor) -> None:
    cursor.execute(f"DELETE FROM {FC}")
    cursor.execute(f"INSERT INTO {FC} (facet, value, products) {_COUNTED}")


def facets_refresh(*, product_ids: Iterable[int]) -> None:
    """Write the facet rows of ``product_ids`` again (none for an inactive product) and
    move the kept totals by what changed; the same for the words of their search documents
    (``SearchWord``: the search vocabulary). A few statements, whatever the catalog's size;
    call it in (or as) the transaction of the write."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"DELETE FROM {FP} WHERE product_id = ANY(%s) "
                       "RETURNING product_id, facet, value", [ids])
        old_rows = cursor.fetchall()
        sql, params = _rows_sql(ids)
        cursor.execute(f"INSERT INTO {FP} (product_id, facet, value) {sql} "
                       "RETURNING product_id, facet, value", params)
        new_rows = cursor.fetchall()
        delta = Counter((facet, value) for _pk, facet, value in new_rows)
        delta.subtract(Counter((facet, value) for _pk, facet, value in old_rows))
        # The search vocabulary's words, from the documents as they stand.
        cursor.execute(f"DELETE FROM {SW} WHERE product_id = ANY(%s) RETURNING kind, word",
                       [ids])
        delta.subtract(Counter(cursor.fetchall()))
        words = _words_of(cursor, ids)
        _words_insert(cursor, words)
        delta.update((kind, word) for _pk, kind, word in words)
        changes = sorted((key, n) for key, n in delta.items() if n)
        new_words: set[str] = set()
        gone_words: set[str] = set()
        if changes:
            cursor.execute(
                f"INSERT INTO {FC} (facet, value, products) VALUES "
                + ", ".join(["(%s, %s, %s::int)"] * len(changes))
                + f" ON CONFLICT (facet, value) DO UPDATE SET products = {FC}.products "
                  "+ EXCLUDED.products RETURNING facet, value, products",
                [x for (facet, value), n in changes for x in (facet, value, n)])
            for facet, value, products in cursor.fetchall():
                before = products - delta[(facet, value)]
                if facet != WORD or not CJK_RUN.fullmatch(value):
                    continue
                if before <= 0 < products:
                    new_words.add(value)
                elif products <= 0 < before:
                    gone_words.add(value)
        _words_refresh(cursor, ids, old_rows, new_rows, new_words, gone_words)


def facets_rebuild() -> None:
    """Count every product's facet values and the totals again (then ANALYZE them: the
    planner must not guess at freshly written tables)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"DELETE FROM {FP}")
        sql, params = _rows_sql(None)
        cursor.execute(f"INSERT INTO {FP} (product_id, facet, value) {sql}", params)
        cursor.execute(f"DELETE FROM {SW}")
        _words_insert(cursor, _words_of(cursor, None))
        _totals_rewrite(cursor)
        _words_rebuild(cursor)
        cursor.execute(f"ANALYZE {FP}, {SW}, {FC}, {WP}, {WC}")


def facet_totals_recount() -> None:
    """Count the totals again from the kept rows: after products were deleted (their rows
    went with them, past ``facets_refresh``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        _totals_rewrite(cursor)
        # The deleted products' matches went with them: their words' counts follow (a
        # word no product has any more is forgotten).
        cursor.execute(f"DELETE FROM {WP} WHERE word <> ALL(%s)", [sorted(_kept_words(cursor))])
        _word_counts_recount(cursor)


def facets_reconcile() -> int:
    """Compare the kept rows and totals with the catalog, and fix them when they differ.
    Returns how many rows or totals differed (0: all exact)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        sql, params = _rows_sql(None)
        kept = f"SELECT product_id, facet, value FROM {FP}"
        cursor.execute(f"SELECT COUNT(*) FROM (({sql}) EXCEPT ({kept})) AS missing", params)
        wrong = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM (({kept}) EXCEPT ({sql})) AS extra", params)
        wrong += cursor.fetchone()[0]
        words = set(_words_of(cursor, None))
        cursor.execute(f"SELECT product_id, kind, word FROM {SW}")
        wrong += len(words.symmetric_difference(cursor.fetchall()))
        cursor.execute(
            f"SELECT COUNT(*) FROM ({_COUNTED}) AS counted FULL JOIN (SELECT facet, value, "
            f"products FROM {FC} WHERE products <> 0) AS kept USING (facet, value) "
            "WHERE counted.n IS DISTINCT FROM kept.products")
        wrong += cursor.fetchone()[0]
        # The words' matches, from the documents, and their counts, from the kept rows (as
        # they stand: what a wrong kept row above made wrong here is counted once, above).
        cursor.execute(_MATCHES, [sorted(_kept_words(cursor))])
        matches = set(cursor.fetchall())
        cursor.execute(f"SELECT word, product_id, in_name, popularity FROM {WP}")
        word_wrong = len(matches.symmetric_difference(cursor.fetchall()))
        counted_sql, counted_params = _word_counts_sql(None)
        cursor.execute(
            f"SELECT COUNT(*) FROM ({counted_sql}) AS counted(word, facet, value, n) FULL JOIN "
            f"(SELECT word, facet, value, products FROM {WC} WHERE products <> 0) AS kept "
            "USING (word, facet, value) WHERE counted.n IS DISTINCT FROM kept.products",
            counted_params)
        word_wrong += cursor.fetchone()[0]
        if wrong:
            log.warning("facet counts: %s rows differed from the catalog, counted again", wrong)
            cursor.execute(f"DELETE FROM {FP}")
            cursor.execute(f"INSERT INTO {FP} (product_id, facet, value) {sql}", params)
            cursor.execute(f"DELETE FROM {SW}")
            _words_insert(cursor, sorted(words))
            _totals_rewrite(cursor)
        if word_wrong or wrong:
            if word_wrong:
                log.warning("word facet counts: %s rows differed, counted again", word_wrong)
            _words_rebuild(cursor)
        wrong += word_wrong
    return wrong


def facet_counts_kept() -> dict[str, dict[str, int]]:
    """facet -> value -> how many active products show it: the kept totals (one query)."""
    found: dict[str, dict[str, int]] = {}
    for facet, value, products in (FacetCount.objects.filter(products__gt=0)
                                   .exclude(facet__in=WORDS)
                                   .values_list("facet", "value", "products")):
        found.setdefault(facet, {})[value] = products
    return found


def facet_counts_of(groups: Iterable[tuple[QuerySet[Product], Iterable[str]]]
                    ) -> dict[str, dict[str, int]]:
    """facet -> value -> products: for each (products, facets) of ``groups``, how many of
    those products show each value of those facets. One query: a grouped count over the
    kept rows of the matching products per group, the groups joined by UNION ALL."""
    counted = [
        FacetProduct.objects.filter(product_id__in=products.order_by().values("pk"),
                                    facet__in=list(facets))
        .values_list("facet", "value").annotate(n=Count("*")).order_by()
        for products, facets in groups
    ]
    found: dict[str, dict[str, int]] = {}
    if counted:
        rows = counted[0].union(*counted[1:], all=True) if len(counted) > 1 else counted[0]
        for facet, value, n in rows:
            found.setdefault(facet, {})[value] = n
    return found
