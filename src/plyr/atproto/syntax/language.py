"""Language tags (BCP 47 / RFC 5646), as the lexicon `language` format holds them."""

from __future__ import annotations

import re

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "ensure_language",
    "is_valid_language",
]

# RFC 5646 section 2.2.8: tags from before RFC 4646 that do not fit the grammar (or do,
# but are kept whole). Compared case-insensitively.
_GRANDFATHERED = frozenset(
    tag.lower()
    for tag in [
        "en-GB-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-BE-FR",
        "sgn-BE-NL",
        "sgn-CH-DE",
        "art-lojban",
        "cel-gaulish",
        "no-bok",
        "no-nyn",
        "zh-guoyu",
        "zh-hakka",
        "zh-min",
        "zh-min-nan",
        "zh-xiang",
    ]
)
_ALNUM = re.compile(r"[A-Za-z0-9]+")


def _private_use_problem(subtags: list[str]) -> str | None:
    if not subtags:
        return "a private-use section 'x' needs at least one subtag"
    for subtag in subtags:
        if not 1 <= len(subtag) <= 8 or not _ALNUM.fullmatch(subtag):
            return f"bad private-use subtag {subtag!r}"
    return None


def _language_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return not_a_string(value)
    if not value or len(value) > 128:
        return "empty or longer than 128 characters"
    if value.lower() in _GRANDFATHERED:
        return None
    subtags = value.split("-")
    if any(not s or not s.isascii() or not _ALNUM.fullmatch(s) for s in subtags):
        return "subtags are ASCII letters and digits separated by single hyphens"
    if subtags[0].lower() == "x":
        return _private_use_problem(subtags[1:])
    # atproto's profile: the primary language subtag is 2-3 lowercase letters.
    if not re.fullmatch(r"[a-z]{2,3}", subtags[0]):
        return "the primary language subtag must be 2-3 lowercase letters"
    i = 1
    extlangs = 0
    while i < len(subtags) and extlangs < 3 and re.fullmatch(r"[A-Za-z]{3}", subtags[i]):
        i += 1
        extlangs += 1
    if i < len(subtags) and re.fullmatch(r"[A-Za-z]{4}", subtags[i]):  # script
        i += 1
    if i < len(subtags) and re.fullmatch(r"[A-Za-z]{2}|[0-9]{3}", subtags[i]):  # region
        i += 1
    variants: set[str] = set()
    while i < len(subtags) and re.fullmatch(r"[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}", subtags[i]):
        variant = subtags[i].lower()
        if variant in variants:
            return f"variant subtag {subtags[i]!r} is repeated"
        variants.add(variant)
        i += 1
    singletons: set[str] = set()
    while i < len(subtags) and len(subtags[i]) == 1 and subtags[i].lower() != "x":
        singleton = subtags[i].lower()
        if singleton in singletons:
            return f"extension singleton {subtags[i]!r} is repeated"
        singletons.add(singleton)
        i += 1
        start = i
        while i < len(subtags) and 2 <= len(subtags[i]) <= 8:
            i += 1
        if i == start:
            return f"extension {singleton!r} needs at least one subtag of 2-8 characters"
    if i < len(subtags) and subtags[i].lower() == "x":
        return _private_use_problem(subtags[i + 1 :])
    if i < len(subtags):
        return f"unexpected subtag {subtags[i]!r}"
    return None


def is_valid_language(value: object) -> bool:
    """A well-formed and valid BCP 47 tag (no repeated variants or extension singletons)."""
    return _language_problem(value) is None


def ensure_language(value: object) -> str:
    problem = _language_problem(value)
    if problem is not None:
        raise InvalidSyntax("language", value, problem)
    assert isinstance(value, str)
    return value
