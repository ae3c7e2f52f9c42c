"""Reading and writing records and blobs in one user's repository on their PDS.

Every write names its record key before the call, so a retried job rewrites the same
record instead of creating a second one. Records are validated (when a validator is given)
before they leave, and the CID the PDS reports is checked against the one computed here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from plyr.atproto import dagcbor
from plyr.atproto.syntax import ensure_nsid, ensure_record_key
from plyr.atproto.xrpc import RecordNotFound, XrpcClient

log = logging.getLogger(__name__)

RecordValidator = Callable[[str, dict[str, Any]], None]


class CidMismatch(Exception):
    """The PDS stored something other than what we sent (its CID differs from ours)."""


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A strong reference: the record's AT-URI and the CID of its exact contents."""

    uri: str
    cid: str
    # The repo revision of the commit that wrote it, when the PDS says (a write that changed
    # nothing makes no commit). Not part of what the reference is.
    rev: str | None = field(default=None, compare=False)

    def as_strong_ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def collection(self) -> str:
        return self.uri.rsplit("/", 2)[-2]


@dataclass(frozen=True, slots=True)
class Record:
    uri: str
    cid: str | None
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordPage:
    records: list[Record]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class Create:
    collection: str
    rkey: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Update:
    collection: str
    rkey: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delete:
    collection: str
    rkey: str


Write = Create | Update | Delete


def _ref(written: dict[str, Any]) -> RecordRef:
    """The reference a create or put answers with, and the revision of its commit."""
    commit = written.get("commit")
    rev = commit.get("rev") if isinstance(commit, dict) else None
    return RecordRef(written["uri"], written["cid"], str(rev) if rev else None)


class RepoClient:
    """One user's repository: `did` on the PDS `xrpc` talks to."""

    def __init__(
        self, xrpc: XrpcClient, did: str, *, validator: RecordValidator | None = None
    ) -> None:
        self.xrpc = xrpc
        self.did = did
        self.validator = validator

    def _prepare(self, collection: str, rkey: str, record: dict[str, Any]) -> dict[str, Any]:
        ensure_nsid(collection)
        ensure_record_key(rkey)
        value = {"$type": collection, **record}
        if value["$type"] != collection:
            raise ValueError(f"record $type {value['$type']!r} is not {collection!r}")
        if self.validator is not None:
            self.validator(collection, value)
        return value

    def _check_cid(self, uri: str, value: dict[str, Any], returned: str) -> None:
        local = dagcbor.record_cid(value)
        if local != returned:
            raise CidMismatch(f"{uri}: the PDS stored CID {returned}, we computed {local}")

    async def create_record(
        self,
        collection: str,
        rkey: str,
        record: dict[str, Any],
        *,
        validate: bool | None = None,
    ) -> RecordRef:
        """Create a record under a key chosen by the caller (fails if the key is taken)."""
        value = self._prepare(collection, rkey, record)
        data = await self.xrpc.procedure(
            "com.atproto.repo.createRecord",
            {
                "repo": self.did,
                "collection": collection,
                "rkey": rkey,
                "record": value,
                **({"validate": validate} if validate is not None else {}),
            },
        )
        self._check_cid(data["uri"], value, data["cid"])
        return _ref(data)

    async def put_record(
        self,
        collection: str,
        rkey: str,
        record: dict[str, Any],
        *,
        swap_record: str | None = None,
        validate: bool | None = None,
    ) -> RecordRef:
        """Create or replace the record at `rkey`: the idempotent write jobs use."""
        value = self._prepare(collection, rkey, record)
        body: dict[str, Any] = {
            "repo": self.did,
            "collection": collection,
            "rkey": rkey,
            "record": value,
        }
        if swap_record is not None:
            body["swapRecord"] = swap_record
        if validate is not None:
            body["validate"] = validate
        data = await self.xrpc.procedure("com.atproto.repo.putRecord", body)
        self._check_cid(data["uri"], value, data["cid"])
        return _ref(data)

    async def get_record(
        self, collection: str, rkey: str, *, repo: str | None = None
    ) -> Record | None:
        try:
            data = await self.xrpc.query(
                "com.atproto.repo.getRecord",
                {"repo": repo or self.did, "collection": collection, "rkey": rkey},
            )
        except RecordNotFound:
            return None
        return Record(data["uri"], data.get("cid"), data["value"])

    async def list_records(
        self,
        collection: str,
        *,
        repo: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        reverse: bool = False,
    ) -> RecordPage:
        data = await self.xrpc.query(
            "com.atproto.repo.listRecords",
            {
                "repo": repo or self.did,
                "collection": collection,
                "limit": max(1, min(limit, 100)),
                "cursor": cursor,
                "reverse": "true" if reverse else None,
            },
        )
        records = [Record(item["uri"], item.get("cid"), item["value"]) for item in data["records"]]
        return RecordPage(records, data.get("cursor") if records else None)

    async def iter_records(
        self, collection: str, *, repo: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Record]:
        """Every record of a collection, following the cursor page by page."""
        cursor: str | None = None
        while True:
            page = await self.list_records(collection, repo=repo, limit=page_size, cursor=cursor)
            for record in page.records:
                yield record
            if not page.cursor or page.cursor == cursor:
                return
            cursor = page.cursor

    async def delete_record(
        self, collection: str, rkey: str, *, swap_record: str | None = None
    ) -> None:
        """Delete a record; deleting one that is already gone succeeds (retries are safe)."""
        body: dict[str, Any] = {"repo": self.did, "collection": collection, "rkey": rkey}
        if swap_record is not None:
            body["swapRecord"] = swap_record
        await self.xrpc.procedure("com.atproto.repo.deleteRecord", body)

    async def upload_blob(self, source: bytes | Path, mime_type: str) -> dict[str, Any]:
        """Upload a blob and return its reference (`{"$type": "blob", "ref": …}`).

        The body is sent whole because a DPoP nonce retry must resend it; callers check
        the size against the PDS's limit first (PayloadTooLarge otherwise).
        """
        content = source if isinstance(source, bytes) else await anyio.Path(source).read_bytes()
        data = await self.xrpc.procedure(
            "com.atproto.repo.uploadBlob", content=content, content_type=mime_type
        )
        blob = data["blob"]
        expected = dagcbor.cid_for_bytes(content, codec="raw")
        if blob.get("ref", {}).get("$link") != expected:
            raise CidMismatch(f"blob stored as {blob.get('ref')}, we computed {expected}")
        return dict(blob)

    async def apply_writes(self, writes: list[Write]) -> list[RecordRef | None]:
        """Several writes in one commit: all happen or none do."""
        operations: list[dict[str, Any]] = []
        values: list[dict[str, Any] | None] = []
        for write in writes:
            if isinstance(write, Delete):
                ensure_record_key(write.rkey)
                operations.append(
                    {
                        "$type": "com.atproto.repo.applyWrites#delete",
                        "collection": write.collection,
                        "rkey": write.rkey,
                    }
                )
                values.append(None)
                continue
            value = self._prepare(write.collection, write.rkey, write.value)
            kind = "create" if isinstance(write, Create) else "update"
            operations.append(
                {
                    "$type": f"com.atproto.repo.applyWrites#{kind}",
                    "collection": write.collection,
                    "rkey": write.rkey,
                    "value": value,
                }
            )
            values.append(value)
        data = await self.xrpc.procedure(
            "com.atproto.repo.applyWrites", {"repo": self.did, "writes": operations}
        )
        refs: list[RecordRef | None] = []
        for sent, result in zip(values, data.get("results", []), strict=False):
            if sent is None:
                refs.append(None)
                continue
            self._check_cid(result["uri"], sent, result["cid"])
            refs.append(RecordRef(result["uri"], result["cid"]))
        return refs
