"""Being a PDS for tests: a did:plc of our own on the local PLC directory (so its key can
be rotated), a repository whose commits we sign, and the `subscribeRepos` frames for them,
served over a real WebSocket. Tests forge or break those frames to see the follower drop
them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import websockets
from websockets.asyncio.server import ServerConnection

from plyr.atproto import dagcbor, plc
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.mst import root_of
from plyr.atproto.signatures import SigningKey
from plyr.atproto.tid import next_tid
from tests.support.car_files import block, cid_of, signed_commit, write_car


@dataclass
class OwnDid:
    did: str
    rotation_key: SigningKey
    signing_key: SigningKey


async def create_did(plc_url: str, signing_key: SigningKey, pds_url: str, handle: str) -> OwnDid:
    """A new did:plc whose `#atproto` key is `signing_key` (we hold its rotation key too)."""
    rotation = SigningKey.generate("secp256k1")
    genesis = {
        "type": "plc_operation",
        "rotationKeys": [rotation.did_key()],
        "verificationMethods": {"atproto": signing_key.did_key()},
        "alsoKnownAs": [f"at://{handle}"],
        "services": {
            "atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": pds_url},
        },
        "prev": None,
    }
    signed = plc.sign_operation(genesis, rotation)
    digest = hashlib.sha256(dagcbor.encode_ipld(signed)).digest()
    did = "did:plc:" + base64.b32encode(digest).decode().lower()[:24]
    async with httpx.AsyncClient(timeout=10) as http:
        await plc.submit(http, plc_url, did, signed)
    return OwnDid(did, rotation, signing_key)


async def rotate_signing_key(plc_url: str, own: OwnDid, new_key: SigningKey) -> None:
    """A PLC operation that makes `new_key` the DID's `#atproto` key."""
    async with httpx.AsyncClient(timeout=10) as http:
        last = await plc.last_operation(http, plc_url, own.did)
        operation = plc.next_operation(last, verification_methods={"atproto": new_key.did_key()})
        await plc.submit(http, plc_url, own.did, plc.sign_operation(operation, own.rotation_key))
    own.signing_key = new_key


def frame(kind: str, body: dict[str, Any]) -> bytes:
    return dagcbor.encode_ipld({"op": 1, "t": kind}) + dagcbor.encode_ipld(body)


@dataclass
class SignedRepo:
    """A repository we keep and sign; `commit` gives the event of one commit."""

    owner: OwnDid
    records: dict[str, CidLink] = field(default_factory=dict)
    blocks: dict[CidLink, bytes] = field(default_factory=dict)
    rev: str | None = None
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def commit(
        self,
        writes: list[tuple[str, str, dict[str, Any] | bytes | None]],
        *,
        key: SigningKey | None = None,
        advance: bool = True,
        rev: str | None = None,
    ) -> dict[str, Any]:
        """The `#commit` body of `writes` ((action, path, record or None)), signed by
        `key` (default: the DID's key). A record given as bytes is its block as is (one our
        encoder would refuse). `rev` defaults to a fresh TID. With `advance=False` the
        repository stays as it was (a forged commit changes nothing)."""
        before = root_of(self.records.items(), self.blocks)
        after_records = dict(self.records)
        carried: dict[CidLink, bytes] = {}
        ops: list[dict[str, Any]] = []
        for action, path, value in writes:
            op: dict[str, Any] = {"action": action, "path": path}
            if action != "create":
                op["prev"] = self.records[path]
            if value is None:
                del after_records[path]
                op["cid"] = None
            else:
                if isinstance(value, bytes):
                    cid, data = cid_of(value), value
                else:
                    cid, data = block(dagcbor.json_to_ipld(value))
                carried[cid] = data
                after_records[path] = op["cid"] = cid
            ops.append(op)
        nodes: dict[CidLink, bytes] = {}
        after = root_of(after_records.items(), nodes)
        rev = rev or next_tid()
        commit_cid, commit = signed_commit(
            self.owner.did, after, rev, key or self.owner.signing_key
        )
        blocks = {commit_cid: commit, **nodes, **carried}
        body = {
            "seq": self.next_seq(),
            "rebase": False,
            "tooBig": False,
            "repo": self.owner.did,
            "commit": commit_cid,
            "rev": rev,
            "since": self.rev,
            "blocks": write_car([commit_cid], blocks),
            "ops": ops,
            "blobs": [],
            "prevData": before,
            "time": "2026-12-01T10:00:00.000Z",
        }
        if advance:
            self.records, self.rev = after_records, rev
            self.blocks.update(nodes)
        return body


class FrameServer:
    """A `subscribeRepos` endpoint on loopback: frames are sent to every subscriber in
    order, replayed after the cursor a subscriber names."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.changed = asyncio.Condition()
        self.url = ""

    async def send(self, seq: int, data: bytes) -> None:
        async with self.changed:
            self.frames.append((seq, data))
            self.changed.notify_all()

    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        query = parse_qs(urlsplit(connection.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else 0
        sent = 0
        closed = asyncio.ensure_future(connection.wait_closed())
        try:
            while True:
                waiting = asyncio.ensure_future(self._after(sent))
                await asyncio.wait({waiting, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed.done():  # the subscriber left (or the server is closing)
                    waiting.cancel()
                    return
                for seq, data in waiting.result():
                    sent += 1
                    if seq > cursor:
                        await connection.send(data)
        finally:
            closed.cancel()

    async def _after(self, sent: int) -> list[tuple[int, bytes]]:
        """The frames past the first `sent`, once there are any."""
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.frames) > sent)
            return self.frames[sent:]


@asynccontextmanager
async def frame_server() -> AsyncIterator[FrameServer]:
    server = FrameServer()
    async with websockets.serve(server._serve, "127.0.0.1", 0) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        server.url = f"http://127.0.0.1:{port}"
        yield server
