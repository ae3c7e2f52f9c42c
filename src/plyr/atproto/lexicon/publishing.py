"""Publishing lexicon documents the way the network resolves them.

A lexicon is found by its NSID: DNS TXT `_lexicon.<authority>` (`did=<did>`, the
authority being the NSID without its last segment, reversed: `fm.plyr.authFullApp` →
`_lexicon.plyr.fm`) names the account whose repository holds it as a
`com.atproto.lexicon.schema` record, key = the NSID (atproto.com/specs/lexicon). A PDS
resolves `include:<nsid>` scopes this way, so plyr's permission set only works once it is
published. Writing is `putRecord` under that fixed key, skipped when the record already
holds the same document: publishing twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from plyr.atproto import dagcbor
from plyr.atproto.repo import RepoClient

__all__ = [
    "SCHEMA_COLLECTION",
    "Published",
    "dns_name",
    "publish_documents",
    "schema_record",
]

SCHEMA_COLLECTION: Final = "com.atproto.lexicon.schema"


@dataclass(frozen=True, slots=True)
class Published:
    nsid: str
    uri: str
    cid: str | None
    outcome: Literal["created", "updated", "unchanged"]


def dns_name(nsid: str) -> str:
    """The TXT record naming the account that holds `nsid`'s document."""
    authority = ".".join(reversed(nsid.split(".")[:-1]))
    return f"_lexicon.{authority}"


def schema_record(document: dict[str, Any]) -> dict[str, Any]:
    """The `com.atproto.lexicon.schema` record of a document: the document, typed."""
    return {"$type": SCHEMA_COLLECTION, **{k: v for k, v in document.items() if k != "$type"}}


async def publish_documents(
    repo: RepoClient, documents: Iterable[dict[str, Any]]
) -> list[Published]:
    """Write each document into `repo` (the authority's account) under its NSID."""
    results: list[Published] = []
    for document in documents:
        nsid = str(document["id"])
        record = schema_record(document)
        existing = await repo.get_record(SCHEMA_COLLECTION, nsid)
        if existing is not None and dagcbor.record_cid(existing.value) == dagcbor.record_cid(
            record
        ):
            results.append(Published(nsid, existing.uri, existing.cid, "unchanged"))
            continue
        ref = await repo.put_record(SCHEMA_COLLECTION, nsid, record)
        outcome: Literal["created", "updated"] = "created" if existing is None else "updated"
        results.append(Published(nsid, ref.uri, ref.cid, outcome))
    return results
