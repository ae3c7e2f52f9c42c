"""What goes wrong with lexicons: a bad document, an unknown NSID, an invalid record."""

from __future__ import annotations

__all__ = [
    "LexiconError",
    "LexiconValidationError",
    "UnknownLexiconError",
]


class LexiconError(Exception):
    """A lexicon document is malformed, or refers to a definition that does not exist."""


class UnknownLexiconError(LexiconError, LookupError):
    """No lexicon (or no record lexicon) for the NSID asked about."""


class LexiconValidationError(ValueError):
    """A record does not match its lexicon.

    `path` locates the offending value (`features[2].did`; empty for the record
    itself) and `reason` says what is wrong with it.
    """

    def __init__(self, collection: str, path: str, reason: str) -> None:
        self.collection = collection
        self.path = path
        self.reason = reason
        where = f"{collection}: {path}" if path else collection
        super().__init__(f"{where}: {reason}")
