"""The lexicon documents shipped in `plyr.lexicons`, and the registries built from them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from plyr.atproto.lexicon.errors import LexiconError
from plyr.atproto.lexicon.namespace import BASE_NAMESPACE, rewrite_namespace
from plyr.atproto.lexicon.registry import LexiconRegistry

__all__ = [
    "bundled_documents",
    "load_lexicons",
]


def _iter_json_files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(NSID the file's place implies, file) for every JSON file under `folder`."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _iter_json_files(entry, f"{prefix}{entry.name}.")
        elif entry.name.endswith(".json"):
            yield prefix + entry.name.removesuffix(".json"), entry


def bundled_documents() -> list[dict[str, Any]]:
    """The lexicon documents shipped in `plyr.lexicons`, as written (base namespace).

    A file's place must match its id: `fm/plyr/track.json` holds `fm.plyr.track`.
    """
    documents: list[dict[str, Any]] = []
    for nsid, entry in _iter_json_files(resources.files("plyr.lexicons")):
        document = json.loads(entry.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("id") != nsid:
            raise LexiconError(f"{entry.name}: expected a lexicon document with id {nsid!r}")
        documents.append(document)
    return documents


def load_lexicons(namespace: str = BASE_NAMESPACE) -> LexiconRegistry:
    """The shipped lexicons with plyr's records moved to `namespace` (cached per namespace).

    >>> load_lexicons("fm.plyr.dev").collection("track")
    'fm.plyr.dev.track'
    """
    return _load_lexicons(namespace)


@cache
def _load_lexicons(namespace: str) -> LexiconRegistry:
    documents = [rewrite_namespace(doc, namespace) for doc in bundled_documents()]
    return LexiconRegistry(documents, namespace=namespace)
