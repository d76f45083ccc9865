"""Catalog search in PostgreSQL alone: Chinese and English, typos, pinyin, homophones.

Every product carries a ``search_document``: its names, category path,
collections, material, gemstone and tags in both languages, lower-cased
(catalog.services.product_search_refresh writes it). A query is normalised (NFKC:
full-width letters and digits become ordinary ones) and becomes terms:

- Chinese runs are cut into the catalog's own words by forward maximum matching
  against a vocabulary taken from the documents' Chinese words ("钻石戒指" ->
  "钻石", "戒指"), so a piece named "钻石求婚戒" in the category "戒指" is found
  even though the four characters never stand together. Where no catalog word fits,
  a run that *sounds* like one (the same pinyin: 钻时 -> 钻石, 珍株 -> 珍珠, 翡翆 -> 翡翠,
  the typos of a pinyin keyboard) is read as that word, and the page says so.
  Unknown characters stay together as one term.
- Latin words match at the start of a word ("neck" finds necklaces, "ring" finds
  rings but not earrings). A word that begins no catalog word is read as pinyin when
  it spells catalog words ("feicui" -> 翡翠, "huangjin" -> 黄金, "zuanshi jiezhi"),
  else corrected to its nearest catalog word ("neckalce" -> "necklace").

Every term must match (AND): Chinese terms as ``LIKE '%term%'``, Latin ones as a
word-start regular expression, both served by the pg_trgm GIN index. The rank
prefers whole words in the name, then word starts in the name, then whole words
elsewhere ("gold ring" lists gold rings before anything merely mentioning rings).

The vocabulary (Chinese words, Latin words, their pinyin) is built once per catalog
version (catalog.cache) by one process and shared in Redis; each process keeps the copy
it loaded. While one process builds a new version's, the others use the previous one
(a moment's old words cost at most a correction; the search itself is SQL on the rows).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Case, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from pypinyin import Style, lazy_pinyin

from .cache import catalog_version, single_flight, wait_for
from .models import FacetCount, Product

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK}]+")
_LETTERS = re.compile(r"[a-z]+")
_TOKEN = re.compile(f"[{CJK}]+|[a-z0-9]+(?:[.'][a-z0-9]+)*")
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_WORD = 6  # the longest Chinese catalog word we try to match
MIN_PINYIN = 4  # shorter Latin words are never read as pinyin ("jin", "yu" are too loose)


@functools.lru_cache(maxsize=8192)
def _sound(text: str) -> tuple[str, ...]:
    """The toneless pinyin syllables of ``text`` (one per character). Kept per process
    (what a word sounds like never changes): building a new catalog version's vocabulary
    spelt every catalog word again, some 6 ms of the first search after each change."""
    return tuple(lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars)))


@dataclass(frozen=True)
class Vocabulary:
    chinese: frozenset[str]
    latin: frozenset[str]  # words of letters alone: "necklace", "platinum"
    latin_list: tuple[str, ...]
    by_sound: dict[tuple[str, ...], str] = field(default_factory=dict)  # 钻石's syllables
    by_pinyin: dict[str, str] = field(default_factory=dict)  # "zuanshi" -> 钻石
    # The runs of letters in the other tokens (the SKUs: "r-0039-10" -> "r"): a typed word
    # inside one is no typo. A handful, where the tokens are one per variant.
    pieces: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def corrected_text(self) -> str:
        return " ".join(self.terms)


VOCABULARY_KEY = "catalog:vocabulary:{}"
VOCABULARY_LATEST = "catalog:vocabulary:latest"  # (version, vocabulary): the one to lend
VOCABULARY_TIMEOUT = 24 * 3600
_loaded: dict[int, Vocabulary] = {}  # this process's copy, by catalog version


WORD, PIECE = "word", "piece"  # SearchWord.kind
MAX_KEPT = 40  # SearchWord.word's length: a longer token is no word anybody types


def document_words(document: str) -> set[tuple[str, str]]:
    """What a search document gives the vocabulary, as (kind, word): its Chinese words
    (up to ``MAX_WORD`` characters) and Latin words of letters, and the runs of letters of
    its other tokens (the SKUs: "r-0039-10" gives "r"). catalog.facet_counts keeps them
    per active product, with a total per word."""
    found: set[tuple[str, str]] = set()
    for token in set(document.split()):
        if token[0] >= "\u3400" and CJK_RUN.fullmatch(token):
            if len(token) <= MAX_WORD:
                found.add((WORD, token))
        elif len(token) > 1 and token.isalpha():
            if len(token) <= MAX_KEPT:
                found.add((WORD, token))
        elif len(token) > 1:
            found.update((PIECE, run) for run in _LETTERS.findall(token) if len(run) <= MAX_KEPT)
    return found


def _build_vocabulary() -> Vocabulary:
    """The catalog's words as they are, with the pinyin of its Chinese words: read from
    the totals kept per word (catalog.facet_counts), not from every document, so the build
    does not grow with the catalog."""
    chinese: set[str] = set()
    latin: set[str] = set()
    pieces: set[str] = set()
    for kind, word in (FacetCount.objects.filter(facet__in=[WORD, PIECE], products__gt=0)
                       .values_list("facet", "value")):
        if kind == PIECE:
            pieces.add(word)
        elif CJK_RUN.fullmatch(word):
            chinese.add(word)
        else:
            latin.add(word)
    by_sound: dict[tuple[str, ...], str] = {}
    by_pinyin: dict[str, str] = {}
    for word in sorted(chinese, key=lambda w: (len(w), w)):  # stable: the same every build
        sound = _sound(word)
        by_sound.setdefault(sound, word)
        if len(word) > 1:
            by_pinyin.setdefault("".join(sound), word)
    return Vocabulary(frozenset(chinese), frozenset(latin), tuple(sorted(latin)),
                      by_sound, by_pinyin, frozenset(pieces))


def _shared_vocabulary(version: int) -> tuple[Vocabulary, bool]:
    """``version``'s vocabulary from Redis, and True; built by one process only
    (single_flight). The others are lent the latest one there is meanwhile (and False),
    or wait for the builder when there is none."""
    key = VOCABULARY_KEY.format(version)
    found = cache.get(key)
    if found is not None:
        return found, True
    with single_flight(key, wait=False) as builder:
        if not builder:
            latest = cache.get(VOCABULARY_LATEST)
            if latest is not None:
                return latest[1], latest[0] == version
            wait_for(key)
        # Look again, the lock's holder too: another process may have built it and let go
        # of the lock between the first look and this one (it was built twice then).
        found = cache.get(key)
        if found is not None:
            return found, True
        words = _build_vocabulary()
        cache.set_many({key: words, VOCABULARY_LATEST: (version, words)}, VOCABULARY_TIMEOUT)
    return words, True


def vocabulary() -> Vocabulary:
    """The catalog's words at its current version (this process's copy when it has one)."""
    version = catalog_version()
    words = _loaded.get(version)
    if words is None:
        words, current = _shared_vocabulary(version)
        if current:  # a lent copy is not kept: the next search asks for the new one
            _loaded.clear()
            _loaded[version] = words
    return words


def segment_chinese(run: str, words: frozenset[str],
                    sounds: dict[tuple[str, ...], str] | None = None,
                    corrections: dict[str, str] | None = None) -> list[str]:
    """Forward maximum matching; characters between known words stay together.

    With ``sounds`` (pinyin syllables -> catalog word), a stretch that is no catalog
    word but sounds exactly like one is read as that word, and noted in ``corrections``.
    """
    terms: list[str] = []
    unknown = ""
    syllables = _sound(run) if sounds else ()
    i = 0
    while i < len(run):
        sizes = range(min(MAX_WORD, len(run) - i), 1, -1)
        size, word = next(((n, run[i:i + n]) for n in sizes if run[i:i + n] in words),
                          (0, None))
        if word is None and sounds:  # no catalog word here: one that sounds the same?
            size, word = next(((n, sounds[tuple(syllables[i:i + n])]) for n in sizes
                               if tuple(syllables[i:i + n]) in sounds), (0, None))
            if word is not None and corrections is not None:
                corrections[run[i:i + size]] = word
        if word is not None:
            if unknown:
                terms.append(unknown)
                unknown = ""
            terms.append(word)
            i += size
        else:
            unknown += run[i]
            i += 1
    if unknown:
        terms.append(unknown)
    return terms


def pinyin_words(text: str, by_pinyin: dict[str, str]) -> list[str] | None:
    """``text`` spelt as catalog words in pinyin, longest first ("zuanshijiezhi" ->
    钻石, 戒指); None when it is not."""
    if len(text) < MIN_PINYIN or not text.isalpha():
        return None
    words: list[str] = []
    i = 0
    while i < len(text):
        for end in range(len(text), i + 1, -1):
            if text[i:end] in by_pinyin:
                words.append(by_pinyin[text[i:end]])
                i = end
                break
        else:
            return None
    return words


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxh":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _begins_a_catalog_word(word: str, vocab: Vocabulary) -> bool:
    """``word`` (letters alone) begins a catalog word, or stands in a SKU ("r-0039-10"):
    a word of letters stands in a token only inside one of its runs of letters."""
    return any(known.startswith(word) for known in vocab.latin) or any(
        word in piece for piece in vocab.pieces)


def normalise(text: str) -> str:
    """What is searched: full-width forms made ordinary (ＧＩＡ１２ -> gia12), lower case."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()[:MAX_QUERY_LENGTH]


def parse_query(text: str) -> ParsedQuery:
    text = normalise(text)
    vocab = vocabulary()
    terms: list[str] = []
    corrections: dict[str, str] = {}
    tokens = _TOKEN.findall(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if CJK_RUN.fullmatch(token):
            terms += segment_chinese(token, vocab.chinese, vocab.by_sound, corrections)
            continue
        word = _singular(token)
        if len(word) <= 3 or not word.isalpha() or _begins_a_catalog_word(word, vocab):
            terms.append(word)  # numbers (a reference, a size) are never "corrected"
            continue
        # Pinyin, alone or spread over the following words ("zuanshi jiezhi").
        spelt, used = None, 0
        for count in range(min(4, len(tokens) - i + 1), 0, -1):
            joined = "".join(tokens[i - 1:i - 1 + count])
            spelt = pinyin_words(joined, vocab.by_pinyin)
            if spelt:
                used = count
                break
        if spelt:
            corrections[" ".join(tokens[i - 1:i - 1 + used])] = "".join(spelt)
            terms += spelt
            i += used - 1
            continue
        close = difflib.get_close_matches(word, vocab.latin_list, n=1, cutoff=0.7)
        if close:
            corrections[token] = close[0]
            word = close[0]
        terms.append(word)
    unique = tuple(dict.fromkeys(t for t in terms if t))[:MAX_TERMS]
    return ParsedQuery(terms=unique, corrections=corrections)


def _word_start(term: str) -> str:
    return r"\m" + re.escape(term)


def _whole_word(term: str) -> str:
    return r"\m" + re.escape(term) + r"(e?s)?\M"


def search_filter(queryset: QuerySet[Product], parsed: ParsedQuery) -> QuerySet[Product]:
    """Products whose document holds every term, annotated with ``search_rank`` (whole
    words in the name first). No terms (a query of punctuation or emoji): everything,
    all ranked alike."""
    if not parsed.terms:
        return queryset.annotate(search_rank=Value(0.0, output_field=FloatField()))
    condition = Q()
    rank = Value(0.0, output_field=FloatField())
    for term in parsed.terms:
        if CJK_RUN.fullmatch(term):
            condition &= Q(search_document__contains=term)
            rank = rank + Case(When(name__contains=term, then=Value(3.0)), default=Value(1.0),
                               output_field=FloatField())
            continue
        condition &= Q(search_document__regex=_word_start(term))
        in_name = Q(name_en_lower__regex=_whole_word(term)) | Q(name__iregex=_whole_word(term))
        starts_in_name = (Q(name_en_lower__regex=_word_start(term))
                          | Q(name__iregex=_word_start(term)))
        rank = rank + Case(
            When(in_name, then=Value(4.0)),
            When(starts_in_name, then=Value(3.0)),
            When(search_document__regex=_whole_word(term), then=Value(2.0)),
            default=Value(1.0),
            output_field=FloatField(),
        )
    return (
        queryset.annotate(name_en_lower=Lower("name_en"))
        .filter(condition)
        .annotate(search_rank=rank)
    )
