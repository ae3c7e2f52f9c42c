"""The base namespace of the shipped documents, and moving documents to another one.

`rewrite_namespace` moves `fm.plyr` to the configured namespace (`fm.plyr.dev`, ...) so
development records never mix with production ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "BASE_NAMESPACE",
    "rewrite_namespace",
]

BASE_NAMESPACE: Final = "fm.plyr"
"""The namespace the shipped documents are written in."""


# Lists whose strings name NSIDs (or refs): the union members, token values, and the
# collections and methods of a permission set's permissions.
_NSID_LISTS: Final = frozenset({"refs", "knownValues", "collection", "lxm"})


def _in_namespace(nsid: str, namespace: str) -> bool:
    return nsid == namespace or nsid.startswith(namespace + ".")


def _rewrite_ref(ref: str, base: str, namespace: str) -> str:
    nsid, hash_, name = ref.partition("#")
    if nsid and _in_namespace(nsid, base):
        return namespace + nsid[len(base) :] + hash_ + name
    return ref


def rewrite_namespace(
    document: Mapping[str, Any], namespace: str, base: str = BASE_NAMESPACE
) -> dict[str, Any]:
    """A copy of `document` with `base` (`fm.plyr`) replaced by `namespace` in its id, in
    every reference (`ref`, `refs`, and token names in `knownValues`) and in what a
    permission set grants (its permissions' `collection` and `lxm` lists).

    Only whole leading NSID segments match: `fm.plyr.track` becomes
    `fm.plyr.dev.track`, while `fm.plyrx.track` or `com.atproto.repo.strongRef` stay.
    """
    if namespace == base:
        return copy.deepcopy(dict(document))

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            if key in _NSID_LISTS:
                return [
                    _rewrite_ref(item, base, namespace) if isinstance(item, str) else item
                    for item in node
                ]
            return [walk(item, None) for item in node]
        if isinstance(node, str) and key in ("id", "ref"):
            return _rewrite_ref(node, base, namespace)
        return node

    rewritten: dict[str, Any] = walk(dict(document), None)
    return rewritten
