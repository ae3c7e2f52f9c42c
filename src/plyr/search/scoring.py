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
from dataclasses import dataclass
from enum import StrEnum

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
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)`: shared trigrams over all trigrams."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


def word_similarity(query: str, text: str) -> float:
    """The best similarity of the query with a run of as many whole words of the text
    (a simpler cousin of pg_trgm's `word_similarity`, never above it)."""
    query_words = words(query)
    text_words = words(text)
    if not query_words or not text_words:
        return 0.0
    size = min(len(query_words), len(text_words))
    best = 0.0
    for start in range(len(text_words) - size + 1):
        best = max(best, similarity(query, " ".join(text_words[start : start + size])))
    return best


def score(query: str, text: str | None) -> Score | None:
    """How well `text` matches `query` (both in any case), or None for no match."""
    if not text:
        return None
    q = normalise(query)
    t = normalise(text)
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
    fuzzy = max(similarity(q, t), word_similarity(q, t))
    if fuzzy < MIN_SIMILARITY:
        return None
    return Score(round(BAND[Match.fuzzy] * fuzzy, 4), Match.fuzzy)


def best(query: str, *fields: tuple[str | None, float]) -> Score | None:
    """The best score over several fields, each with a weight (the main field has 1.0)."""
    found: Score | None = None
    for text, weight in fields:
        result = score(query, text)
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
