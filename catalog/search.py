"""Catalog search in PostgreSQL alone: Chinese and English, with typo correction.

Every product carries a ``search_document``: its names, category path,
collections, material, gemstone and tags in both languages, lower-cased
(catalog.services.product_search_refresh writes it). A query becomes terms:

- Chinese runs are cut into the catalog's own words by forward maximum matching
  against a vocabulary taken from the documents' Chinese words ("钻石戒指" ->
  "钻石", "戒指"), so a piece named "钻石求婚戒" in the category "戒指" is found
  even though the four characters never stand together. Unknown characters stay
  together as one term.
- Latin words match as substrings ("neck" finds necklaces); a word that appears
  nowhere in the catalog is corrected to its nearest catalog word ("neckalce" ->
  "necklace") and the page says so.

Every term must match (AND). Matching is ``LIKE '%term%'`` on the document, which
the pg_trgm GIN index serves.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from .cache import catalog_version
from .models import Product

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{CJK}]+")
_TOKEN = re.compile(f"[{CJK}]+|[a-z0-9]+(?:[.'][a-z0-9]+)*")
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_WORD = 6  # the longest Chinese catalog word we try to match


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def corrected_text(self) -> str:
        return " ".join(self.terms)


@lru_cache(maxsize=4)
def _vocabulary(version: int) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """(Chinese words, Latin words, Latin words as a list) of the catalog at ``version``."""
    chinese: set[str] = set()
    latin: set[str] = set()
    documents = Product.objects.filter(is_active=True).values_list("search_document", flat=True)
    for document in documents.iterator(chunk_size=2000):
        for token in document.split():
            if _CJK_RUN.fullmatch(token):
                if len(token) <= MAX_WORD:
                    chinese.add(token)
            elif len(token) > 1:
                latin.add(token)
    return frozenset(chinese), frozenset(latin), tuple(sorted(latin))


def vocabulary() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    return _vocabulary(catalog_version())


def segment_chinese(run: str, words: frozenset[str]) -> list[str]:
    """Forward maximum matching; characters between known words stay together."""
    terms: list[str] = []
    unknown = ""
    i = 0
    while i < len(run):
        for size in range(min(MAX_WORD, len(run) - i), 1, -1):
            if run[i:i + size] in words:
                if unknown:
                    terms.append(unknown)
                    unknown = ""
                terms.append(run[i:i + size])
                i += size
                break
        else:
            unknown += run[i]
            i += 1
    if unknown:
        terms.append(unknown)
    return terms


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxh":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def parse_query(text: str) -> ParsedQuery:
    text = (text or "").strip().lower()[:MAX_QUERY_LENGTH]
    chinese, latin, latin_list = vocabulary()
    terms: list[str] = []
    corrections: dict[str, str] = {}
    for token in _TOKEN.findall(text):
        if _CJK_RUN.fullmatch(token):
            terms += segment_chinese(token, chinese)
            continue
        word = _singular(token)
        if len(word) > 3 and not any(word in known for known in latin):
            close = difflib.get_close_matches(word, latin_list, n=1, cutoff=0.7)
            if close:
                corrections[token] = close[0]
                word = close[0]
        terms.append(word)
    unique = tuple(dict.fromkeys(t for t in terms if t))[:MAX_TERMS]
    return ParsedQuery(terms=unique, corrections=corrections)


def search_filter(queryset: QuerySet[Product], parsed: ParsedQuery) -> QuerySet[Product]:
    """Products whose document holds every term, the best (term in the name) first."""
    if not parsed.terms:
        return queryset
    condition = Q()
    rank = Value(0)
    for term in parsed.terms:
        condition &= Q(search_document__contains=term)
        rank = rank + Case(
            When(Q(name__contains=term) | Q(name_en_lower__contains=term), then=Value(3)),
            default=Value(1),
            output_field=IntegerField(),
        )
    return (
        queryset.annotate(name_en_lower=Lower("name_en"))
        .filter(condition)
        .annotate(search_rank=rank)
    )
