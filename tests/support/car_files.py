"""Making CAR files and signed commits, to hand the verifiers forged or broken ones."""

from __future__ import annotations

from typing import Any

import httpx

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.devnet import Network
from plyr.atproto.identity import parse_did_document
from plyr.atproto.plc import document
from plyr.atproto.signatures import SigningKey


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def write_car(
    roots: list[CidLink], blocks: dict[CidLink, bytes] | list[tuple[CidLink, bytes]]
) -> bytes:
    """A CAR v1 file; blocks are written as given (so a test can pair a CID with other bytes)."""
    header = dagcbor.encode_ipld({"version": 1, "roots": roots})
    out = bytearray(_varint(len(header)) + header)
    pairs = blocks.items() if isinstance(blocks, dict) else blocks
    for cid, data in pairs:
        section = cid.raw + data
        out += _varint(len(section)) + section
    return bytes(out)


def cid_of(data: bytes) -> CidLink:
    return CidLink.from_str(dagcbor.cid_for_bytes(data, "dag-cbor"))


def block(value: Any) -> tuple[CidLink, bytes]:
    data = dagcbor.encode_ipld(value)
    return cid_of(data), data


def signed_commit(
    did: str,
    data: CidLink,
    rev: str,
    key: SigningKey,
    *,
    version: int = 3,
    prev: CidLink | None = None,
) -> tuple[CidLink, bytes]:
    unsigned = {"did": did, "version": version, "data": data, "rev": rev, "prev": prev}
    sig = key.sign(dagcbor.encode_ipld(unsigned))
    return block({**unsigned, "sig": sig})


def commit_fields(data: bytes) -> dict[str, Any]:
    value = dagcbor.decode_record(data)
    assert isinstance(value, dict)
    return value


async def fetch_repo(net: Network, did: str) -> bytes:
    async with httpx.AsyncClient(base_url=net.pds_url, timeout=30) as http:
        response = await http.get("/xrpc/com.atproto.sync.getRepo", params={"did": did})
        response.raise_for_status()
        return response.content


async def signing_key_of(net: Network, did: str) -> str:
    """The DID document's `#atproto` key (publicKeyMultibase), from the PLC directory."""
    async with httpx.AsyncClient(timeout=10) as http:
        doc = parse_did_document(did, await document(http, net.plc_url, did), allow_http_pds=True)
    assert doc.signing_key is not None
    return doc.signing_key
