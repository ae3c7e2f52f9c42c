"""Checking a firehose `#commit` before anything in it is believed.

A commit event carries the signed commit and, as CAR blocks, the records it wrote and the
tree nodes on their paths (a partial MST). We check that:

- every block hashes to its CID, and the commit block is the one the event names;
- the commit is the repository's (`did`), v3 or v2, signed by the DID's current key;
- each op agrees with the tree the commit signs: a create or update's record CID sits
  under its path (and its block is there), a delete's path is absent;
- for sync v1.1 events (`prevData`, and `prev` on updates and deletes), undoing the ops on
  the partial tree gives `prevData`, the tree of the previous commit: the ops are all the
  commit changed, not a convenient subset.

A commit must also be newer than the last one verified of its repository (`Revisions`:
its `rev` above the previous, and not far in the future): a relay replaying an old, validly
signed commit (say, the create of a record deleted since) must not bring it back.

Keys come from `SigningKeys`; when a signature fails with the cached key the DID is
resolved again (bypassing the cache, at most once a minute per DID), so a rotated key is
followed. `IdentityKeys` is that source over plyr's IdentityResolver.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from plyr.atproto.dagcbor import CidLink
from plyr.atproto.identity import IdentityError, IdentityResolver
from plyr.atproto.mst import MstError, PartialTree
from plyr.atproto.repo_car import (
    BadSignature,
    RepoVerificationError,
    SignedCommit,
    decode_commit,
    read_car,
    verify_commit,
)
from plyr.atproto.tid import parse_tid

__all__ = [
    "CommitRejected",
    "IdentityKeys",
    "Revisions",
    "SigningKeys",
    "check_ops",
    "verify_commit_event",
]


class CommitRejected(Exception):
    """A commit that must not be indexed; `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SigningKeys(Protocol):
    """Where a follower gets a repository's signing key (did:key or publicKeyMultibase)."""

    async def current(self, did: str) -> str:
        """The DID's key as known (cached); CommitRejected when it cannot be had."""
        ...

    async def refreshed(self, did: str) -> str | None:
        """The key resolved afresh, or None when that was done too recently."""
        ...

    def forget(self, did: str) -> None:
        """The DID's identity changed (an `#identity` event): drop what is cached."""
        ...


@dataclass
class IdentityKeys:
    """SigningKeys over an IdentityResolver (its cache is the key cache)."""

    identity: IdentityResolver
    refresh_every: float = 60.0
    retries: int = 2
    retry_delay: float = 0.5
    _refreshed_at: OrderedDict[str, float] = field(default_factory=OrderedDict)

    async def current(self, did: str) -> str:
        attempt = 0
        while True:
            try:
                document = await self.identity.resolve_did(did)
                break
            except IdentityError as exc:
                if not exc.retryable or attempt >= self.retries:
                    reason = f"cannot resolve the signing key: {exc.message}"
                    raise CommitRejected(reason) from exc
            # A directory that did not answer: a short wait, then again.
            await asyncio.sleep(self.retry_delay * 2**attempt)
            attempt += 1
        if document.signing_key is None:
            raise CommitRejected("the DID document names no #atproto signing key")
        return document.signing_key

    async def refreshed(self, did: str) -> str | None:
        now = time.monotonic()
        last = self._refreshed_at.get(did)
        if last is not None and now - last < self.refresh_every:
            return None  # forged commits must not make us hammer the directory
        self._refreshed_at[did] = now
        self._refreshed_at.move_to_end(did)
        while len(self._refreshed_at) > 10_000:
            self._refreshed_at.popitem(last=False)
        self.identity.invalidate(did)
        return await self.current(did)

    def forget(self, did: str) -> None:
        self.identity.invalidate(did)


@dataclass
class Revisions:
    """The latest verified rev of each repository (the most recently seen ones, bounded).

    A process's memory only: after a restart the indexers' own per-record revisions
    (`atproto_rev`) still refuse older versions of rows they hold.
    """

    max_repos: int = 50_000
    # A PDS's clock may run a little ahead of ours; a rev further ahead would make every
    # later commit of the repository look old.
    max_ahead: timedelta = timedelta(minutes=5)
    _latest: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def check(self, did: str, rev: str) -> None:
        """CommitRejected when `rev` is not newer than the last verified one, or is far in
        the future. `rev` is a TID (`decode_commit` refuses anything else)."""
        last = self._latest.get(did)
        if last is not None and rev <= last:
            raise CommitRejected(f"rev {rev} is not newer than {last}, already seen")
        if parse_tid(rev)[0] > datetime.now(UTC) + self.max_ahead:
            raise CommitRejected(f"rev {rev} is in the future")

    def seen(self, did: str, rev: str) -> None:
        self._latest[did] = rev
        self._latest.move_to_end(did)
        while len(self._latest) > self.max_repos:
            self._latest.popitem(last=False)


def _link(value: Any, what: str) -> CidLink | None:
    """A link as libipld decodes it (binary CID bytes), or one already parsed."""
    if value is None or isinstance(value, CidLink):
        return value
    try:
        if isinstance(value, bytes):
            return CidLink.from_raw(value)
    except ValueError:
        pass
    raise CommitRejected(f"{what} is not a CID")


async def verify_commit_event(
    body: Mapping[str, Any], keys: SigningKeys | None, revisions: Revisions | None = None
) -> dict[CidLink, bytes]:
    """Check a `#commit` body (see the module's docstring); its blocks by CID when it holds.

    Without `keys` everything but the signature is checked (tests of the stream alone).
    With `revisions`, the commit must be newer than the repository's last verified one, and
    becomes it. Raises CommitRejected.
    """
    did, rev, blocks = body.get("repo"), body.get("rev"), body.get("blocks")
    if not isinstance(did, str):
        raise CommitRejected("the event names no repository")
    if body.get("tooBig"):
        raise CommitRejected("the commit is too big to carry its blocks (tooBig)")
    commit_cid = _link(body.get("commit"), "the event's commit")
    if commit_cid is None:
        raise CommitRejected("the event names no commit")
    if not isinstance(blocks, bytes):
        raise CommitRejected("the event's blocks are not a CAR file")
    try:
        car = read_car(blocks)
        if car.roots != [commit_cid]:
            raise CommitRejected("the blocks' root is not the event's commit")
        commit = decode_commit(car.blocks, commit_cid, did=did)
        if rev != commit.rev:
            raise CommitRejected(f"the event's rev {str(rev)[:40]!r} is not the commit's")
        if revisions is not None:  # before the signature: a replay costs no key lookup
            revisions.check(did, commit.rev)
        if keys is not None:
            await _signed(car.blocks, commit_cid, did, keys)
    except RepoVerificationError as exc:
        raise CommitRejected(exc.reason) from exc
    check_ops(body, car.blocks, commit)
    if revisions is not None:
        revisions.seen(did, commit.rev)
    return car.blocks


async def _signed(
    blocks: dict[CidLink, bytes], cid: CidLink, did: str, keys: SigningKeys
) -> SignedCommit:
    key = await keys.current(did)
    try:
        return verify_commit(blocks, cid, did=did, signing_key=key)
    except BadSignature:
        fresh = await keys.refreshed(did)  # the key may have been rotated
        if fresh is None or fresh == key:
            raise
        return verify_commit(blocks, cid, did=did, signing_key=fresh)


def check_ops(
    body: Mapping[str, Any], blocks: Mapping[CidLink, bytes], commit: SignedCommit
) -> None:
    """The event's ops against the partial tree its blocks hold (and, with `prevData`,
    the previous tree). Raises CommitRejected."""
    ops = body.get("ops")
    if not isinstance(ops, list):
        raise CommitRejected("the event has no list of ops")
    parsed: list[tuple[str, str, CidLink | None, CidLink | None]] = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise CommitRejected("an op is not a map with a path")
        action, path = op.get("action"), op["path"]
        if action not in ("create", "update", "delete"):
            raise CommitRejected(f"unknown action {action!r} on {path}")
        parsed.append((action, path, _link(op.get("cid"), path), _link(op.get("prev"), path)))
    if len({path for _, path, _, _ in parsed}) != len(parsed):
        raise CommitRejected("two ops on one path")
    prev_data = _link(body.get("prevData"), "prevData")
    try:
        tree = PartialTree(blocks, commit.data)
        for action, path, cid, prev in parsed:
            _check_op(tree, blocks, action, path, cid, prev, proofs=prev_data is not None)
        if prev_data is None:
            return  # a sync v1.0 event: nothing to undo the ops against
        for action, path, _cid, prev in parsed:
            if action == "create":
                tree.delete(path)
            else:
                assert prev is not None
                tree.put(path, prev)
        if tree.root() != prev_data:
            raise CommitRejected("undoing the ops does not give the previous tree (prevData)")
    except MstError as exc:
        raise CommitRejected(f"the tree does not prove the ops: {exc}") from exc


def _check_op(
    tree: PartialTree,
    blocks: Mapping[CidLink, bytes],
    action: str,
    path: str,
    cid: CidLink | None,
    prev: CidLink | None,
    *,
    proofs: bool,
) -> None:
    found = tree.get(path)
    if action == "delete":
        if cid is not None or found is not None:
            raise CommitRejected(f"the tree still holds the deleted {path}")
    else:
        if cid is None or found != cid:
            raise CommitRejected(f"the tree does not hold the {action}d {path} at its CID")
        if cid not in blocks:
            raise CommitRejected(f"the blocks lack the record {path}")
    if proofs and (action == "create") != (prev is None):
        raise CommitRejected(f"the {action} of {path} has {'a' if prev else 'no'} prev")
