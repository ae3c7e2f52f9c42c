"""How well a text matches a query: one pure function, used by both database backends.

The databases only find *candidates* (SQLite: FTS5 trigram tables; PostgreSQL: pg_trgm
with GIN indexes). Every candidate is then scored here, in Python, so the ranking is the
same whichever database found it. Scores fall in bands, so an exact match always beats a
prefix match, a prefix a word-prefix, a word-prefix a substring, and a substring any typo:

    exact 1.0 · prefix 0.9 · word prefix 0.8 · substring 0.7 · fuzzy 0.6 * trigram similarity

Trigram similarity is pg_trgm's: lowercase, split into words of letters and digits, pad
each word with two spaces in front and one behind, take the set of 3-character windows,
and divide the shared trigrams by all trigrams (shared / all). For a query inside a
longer text the best window of whole words counts (like pg_trgm's word_similarity).
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

# Below this trigram similarity a text is no match at all. PostgreSQL's
# pg_trgm.similarity_threshold and word_similarity_threshold are set to the same value for
# search queries, so its candidate set holds everything this function keeps.
MIN_SIMILARITY = 0.4

_WORD = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"\s+")
# C0 and C1 control characters (NUL ends a string in FTS5 and PostgreSQL refuses it) and
# lone surrogates (no UTF-8 encoding: the database driver would fail on them).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class Match(StrEnum):
    exact = "exact"
    prefix = "prefix"
    word_prefix = "word_prefix"
    substring = "substring"
    fuzzy = "fuzzy"


BAND: dict[Match, float] = {
    Match.exact: 1.0,
    Match.prefix: 0.9,
    Match.word_prefix: 0.8,
    Match.substring: 0.7,
    Match.fuzzy: 0.6,  # times the similarity, so always below a substring match
}


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    match: Match


def plain_text(text: str) -> str:
    """`text` with control characters and lone surrogates as spaces: safe to show back and
    to hand to either database, where it is only ever a bound parameter."""
    return _UNSAFE.sub(" ", text)


def normalise(text: str) -> str:
    """Lowercase, trimmed, one space between words, no control characters: the form every
    comparison uses."""
    return _SPACE.sub(" ", plain_text(text).strip().lower())


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigram set of a text (`show_trgm`)."""
    found: set[str] = set()
    for word in words(text):
        found |= _word_trigrams(word)
    return found


@lru_cache(maxsize=8192)
def _word_trigrams(word: str) -> frozenset[str]:
    """One (lowercase) word's trigrams, padded as pg_trgm pads them: a text's trigrams are
    its words' together (none spans two words). Kept: scoring meets the same words often."""
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _similarity(ta: Set[str], tb: Set[str]) -> float:
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


def similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)`: shared trigrams over all trigrams."""
    return _similarity(trigrams(a), trigrams(b))


def word_similarity(query: str, text: str) -> float:
    """The best similarity of the query with a run of as many whole words of the text
    (a simpler cousin of pg_trgm's `word_similarity`, never above it)."""
    query_words = words(query)
    text_words = words(text)
    if not query_words or not text_words:
        return 0.0
    size = min(len(query_words), len(text_words))
    wanted = trigrams(query)
    each = [_word_trigrams(word) for word in text_words]
    best = 0.0
    for start in range(len(text_words) - size + 1):
        window = each[start] if size == 1 else frozenset().union(*each[start : start + size])
        best = max(best, _similarity(wanted, window))
    return best


@lru_cache(maxsize=8192)
def _normalised(text: str) -> str:
    return normalise(text)


@lru_cache(maxsize=1024)
def _query_shape(query: str) -> tuple[int, frozenset[str]]:
    """A (normalised) query's word count and trigrams: the same for every text scored."""
    return len(words(query)), frozenset(trigrams(query))


def _fuzzy(q: str, t: str) -> float:
    """`max(similarity(q, t), word_similarity(q, t))`, each text's trigrams made once."""
    size, wanted = _query_shape(q)
    each = [_word_trigrams(word) for word in words(t)]
    if not size or not each:
        return 0.0
    whole = _similarity(wanted, frozenset().union(*each))
    size = min(size, len(each))
    windows = (
        each
        if size == 1
        else [frozenset().union(*each[i : i + size]) for i in range(len(each) - size + 1)]
    )
    return max(whole, *(_similarity(wanted, window) for window in windows))


def score(query: str, text: str | None) -> Score | None:
    """How well `text` matches `query` (both in any case), or None for no match."""
    return _score(query, text, fuzzy=True)


def _score(query: str, text: str | None, *, fuzzy: bool) -> Score | None:
    """`score`; without `fuzzy`, None where only a typo match could be found."""
    if not text:
        return None
    q = _normalised(query)
    t = _normalised(text)
    if not q or not t:
        return None
    if t == q:
        return Score(BAND[Match.exact], Match.exact)
    if t.startswith(q):
        return Score(BAND[Match.prefix], Match.prefix)
    position = t.find(q)
    if position >= 0:
        # A word starts there when what precedes is not a letter or digit.
        while position >= 0:
            if position == 0 or not t[position - 1].isalnum():
                return Score(BAND[Match.word_prefix], Match.word_prefix)
            position = t.find(q, position + 1)
        return Score(BAND[Match.substring], Match.substring)
    if not fuzzy:
        return None
    alike = _fuzzy(q, t)
    if alike < MIN_SIMILARITY:
        return None
    return Score(round(BAND[Match.fuzzy] * alike, 4), Match.fuzzy)


def best(query: str, *fields: tuple[str | None, float]) -> Score | None:
    """The best score over several fields, each with a weight (the main field has 1.0)."""
    found: Score | None = None
    for text, weight in fields:
        # A typo scores at most BAND[fuzzy] times the weight: not worth computing when
        # that could not beat what another field already has.
        fuzzy = found is None or found.value < BAND[Match.fuzzy] * weight
        result = _score(query, text, fuzzy=fuzzy)
        if result is None:
            continue
        weighted = Score(round(result.value * weight, 4), result.match)
        if found is None or weighted.value > found.value:
            found = weighted
    return found


def query_trigrams(query: str) -> list[str]:
    """The unpadded 3-letter windows of the query's words, as FTS5's trigram tokenizer
    makes them (it does not pad); used to find typo candidates on SQLite."""
    seen: dict[str, None] = {}
    for word in words(query):
        for i in range(len(word) - 2):
            seen.setdefault(word[i : i + 3], None)
    return list(seen)
