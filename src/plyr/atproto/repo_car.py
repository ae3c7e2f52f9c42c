"""Verifying a whole repository (`com.atproto.sync.getRepo`'s CAR) and signed commits.

A CAR file is a varint-framed DAG-CBOR header `{version: 1, roots: [cid]}` followed by
varint-framed blocks, each a binary CID and the bytes it names. A repository's root is its
signed commit `{did, version: 3 (or 2), data, rev, prev, sig}`: `sig` signs the DAG-CBOR of
the commit without `sig`, with the key of the DID document's `#atproto` method, and `data`
is the root of the Merkle Search Tree (`plyr.atproto.mst`) whose keys are record paths
(`<collection>/<rkey>`) and whose values are the records' CIDs.

`load_repo` trusts nothing: every block must hash to its CID, the commit must name the
DID and carry a valid signature, and the tree must be well formed and complete. A record
whose own block is missing or undecodable is reported in `problems` and left out; the
rest of the repository still counts. The firehose checks its commits with the same
`read_car` and `verify_commit` (`plyr.atproto.firehose_verify`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libipld
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CODEC_DAG_CBOR, CODEC_RAW, CidLink
from plyr.atproto.mst import MstError, walk
from plyr.atproto.signatures import Curve, InvalidKey, PublicKey, parse_did_key, parse_multikey
from plyr.atproto.syntax import is_valid_nsid, is_valid_record_key, is_valid_tid

__all__ = [
    "BadSignature",
    "Car",
    "RepoRecord",
    "RepoVerificationError",
    "SignedCommit",
    "VerifiedRepo",
    "decode_commit",
    "load_repo",
    "parse_signing_key",
    "read_car",
    "split_path",
    "verify_commit",
]

_SHA2_256 = 0x12


class RepoVerificationError(ValueError):
    """A repository or commit that must not be trusted; `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadSignature(RepoVerificationError):
    """The commit is well formed but not signed by the key it was checked with."""


@dataclass(frozen=True, slots=True)
class Car:
    roots: list[CidLink]
    blocks: dict[CidLink, bytes]


@dataclass(frozen=True, slots=True)
class SignedCommit:
    did: str
    version: int
    rev: str
    data: CidLink
    prev: CidLink | None
    cid: CidLink


@dataclass(frozen=True, slots=True)
class RepoRecord:
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]  # the record in JSON form (links as {"$link": ...})

    @property
    def path(self) -> str:
        return f"{self.collection}/{self.rkey}"


@dataclass(frozen=True, slots=True)
class VerifiedRepo:
    did: str
    rev: str
    commit_cid: str
    data_cid: str
    records: list[RepoRecord]
    # Records the tree names but that could not be read: (path, reason).
    problems: list[tuple[str, str]] = field(default_factory=list)


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data):
            raise RepoVerificationError("truncated CAR file (a varint runs past the end)")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
        if shift > 63:
            raise RepoVerificationError("malformed CAR file (a varint is too long)")


def _read_cid(data: bytes, offset: int, end: int) -> tuple[CidLink, bytes, int]:
    """A binary CIDv1 at `offset` → (link, its SHA-256 digest, offset after it)."""
    start = offset
    version, offset = _varint(data, offset)
    codec, offset = _varint(data, offset)
    hash_code, offset = _varint(data, offset)
    size, offset = _varint(data, offset)
    if version != 1 or codec not in (CODEC_DAG_CBOR, CODEC_RAW):
        raise RepoVerificationError("a block's CID is not a dag-cbor or raw CIDv1")
    if hash_code != _SHA2_256 or size != 32 or offset + size > end:
        raise RepoVerificationError("a block's CID is not a whole SHA-256 CID")
    digest = data[offset : offset + size]
    offset += size
    try:
        return CidLink.from_raw(data[start:offset]), digest, offset
    except ValueError as exc:
        raise RepoVerificationError(f"a block's CID does not parse: {exc}") from exc


def read_car(data: bytes) -> Car:
    """Parse a CAR (v1) file, checking that every block hashes to its CID."""
    length, offset = _varint(data, 0)
    if length == 0 or offset + length > len(data):
        raise RepoVerificationError("truncated CAR file (its header)")
    try:
        header = dagcbor.decode_record(data[offset : offset + length])
    except ValueError as exc:
        raise RepoVerificationError(f"the CAR header does not decode: {exc}") from exc
    offset += length
    roots = header.get("roots") if isinstance(header, dict) else None
    if not isinstance(header, dict) or header.get("version") != 1 or not isinstance(roots, list):
        raise RepoVerificationError("the CAR header is not {version: 1, roots: [...]}")
    if not all(isinstance(root, CidLink) for root in roots):
        raise RepoVerificationError("a CAR root is not a link")
    blocks: dict[CidLink, bytes] = {}
    while offset < len(data):
        length, offset = _varint(data, offset)
        end = offset + length
        if length == 0 or end > len(data):
            raise RepoVerificationError("truncated CAR file (a block)")
        cid, digest, offset = _read_cid(data, offset, end)
        block = data[offset:end]
        if hashlib.sha256(block).digest() != digest:
            raise RepoVerificationError(f"block {cid} fails its CID")
        blocks[cid] = block
        offset = end
    return Car(list(roots), blocks)


def parse_signing_key(key: str) -> tuple[PublicKey, ...]:
    """A did:key, or a DID document's `publicKeyMultibase`, to the key(s) it can mean.

    Multikey values name their curve. The older suites' values (which the DID document's
    `type` qualifies, and `DidDocument.signing_key` drops) are a bare point, compressed or
    not: each curve the point lies on is a candidate. Trying more than one is safe, since
    a signature that verifies under a point still needs that point's private key.
    """
    try:
        if key.startswith("did:key:"):
            return (parse_did_key(key),)
        if not key.startswith("z"):
            raise InvalidKey("expected base58btc multibase (a leading 'z')")
        try:
            _, raw = libipld.decode_multibase(key)
        except ValueError as exc:
            raise InvalidKey("not valid base58btc") from exc
        if len(raw) in (33, 65) and raw[0] in (2, 3, 4):
            return _bare_point(raw)
        return (parse_multikey(key),)
    except InvalidKey as exc:
        raise RepoVerificationError(f"the signing key is unusable: {exc}") from exc


def _bare_point(raw: bytes) -> tuple[PublicKey, ...]:
    found: list[PublicKey] = []
    curves: tuple[tuple[Curve, ec.EllipticCurve], ...] = (
        ("secp256k1", ec.SECP256K1()),
        ("p256", ec.SECP256R1()),
    )
    for name, curve in curves:
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(curve, raw)
        except ValueError:
            continue
        compressed = point.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        found.append(PublicKey(name, compressed))
    if not found:
        raise InvalidKey("not a point on P-256 or secp256k1")
    return tuple(found)


def decode_commit(blocks: dict[CidLink, bytes], cid: CidLink, *, did: str) -> SignedCommit:
    """The commit block `cid` as a v3 (or v2) commit of `did`; the signature is not checked
    here (`verify_commit` does)."""
    return _decoded(blocks, cid, did)[0]


def _decoded(
    blocks: dict[CidLink, bytes], cid: CidLink, did: str
) -> tuple[SignedCommit, dict[str, Any]]:
    commit = _commit_map(blocks, cid)
    version, rev, sig = commit.get("version"), commit.get("rev"), commit.get("sig")
    root, prev = commit.get("data"), commit.get("prev")
    if version not in (2, 3) or isinstance(version, bool):
        raise RepoVerificationError(f"unsupported commit version {version!r}")
    if commit.get("did") != did:
        raise RepoVerificationError(f"the commit is for {commit.get('did')!r}, not {did}")
    if not isinstance(rev, str) or not isinstance(root, CidLink) or not isinstance(sig, bytes):
        raise RepoVerificationError("the commit lacks its rev, data or sig")
    if not is_valid_tid(rev):  # revs are compared as strings: only TIDs sort by time
        raise RepoVerificationError(f"the commit's rev {rev[:40]!r} is not a TID")
    if prev is not None and not isinstance(prev, CidLink):
        raise RepoVerificationError("the commit's prev is not a link")
    checked = SignedCommit(did=did, version=version, rev=rev, data=root, prev=prev, cid=cid)
    return checked, commit


def _commit_map(blocks: dict[CidLink, bytes], cid: CidLink) -> dict[str, Any]:
    data = blocks.get(cid)
    if data is None:
        raise RepoVerificationError(f"missing block {cid} (the commit)")
    try:
        commit = dagcbor.decode_record(data)
    except ValueError as exc:
        raise RepoVerificationError(f"the commit does not decode: {exc}") from exc
    if not isinstance(commit, dict):
        raise RepoVerificationError("the commit is not a map")
    return commit


def verify_commit(
    blocks: dict[CidLink, bytes], cid: CidLink, *, did: str, signing_key: str | PublicKey
) -> SignedCommit:
    """The commit block `cid`, checked: a v3 (or v2) commit of `did`, signed by the key
    (BadSignature when it is not)."""
    checked, commit = _decoded(blocks, cid, did)
    keys = (signing_key,) if isinstance(signing_key, PublicKey) else parse_signing_key(signing_key)
    unsigned = dagcbor.encode_ipld({name: value for name, value in commit.items() if name != "sig"})
    if not any(key.verify(unsigned, commit["sig"]) for key in keys):
        raise BadSignature(f"bad signature: the commit is not signed by {keys[0].did_key()}")
    return checked


def split_path(path: str) -> tuple[str, str]:
    """`collection/rkey` → its parts, or RepoVerificationError."""
    collection, slash, rkey = path.partition("/")
    if not slash or not is_valid_nsid(collection) or not is_valid_record_key(rkey):
        raise RepoVerificationError(f"{path!r} is not a record path (collection/rkey)")
    return collection, rkey


def load_repo(
    car: bytes,
    *,
    did: str,
    signing_key: str,
    include: Callable[[str], bool] | None = None,
) -> VerifiedRepo:
    """Verify a repository export and read its records.

    `signing_key` is the did:key (or `publicKeyMultibase`) of the DID's current `#atproto`
    key. `include(collection)`, when given, picks the collections whose records are decoded
    (the tree is still checked whole). Raises RepoVerificationError for a repository that
    fails: bad CAR, block not matching its CID, wrong DID, bad signature, malformed or
    incomplete tree.
    """
    parsed = read_car(car)
    if len(parsed.roots) != 1:
        raise RepoVerificationError(f"a repository has one root, this CAR has {len(parsed.roots)}")
    commit = verify_commit(parsed.blocks, parsed.roots[0], did=did, signing_key=signing_key)
    records: list[RepoRecord] = []
    problems: list[tuple[str, str]] = []
    try:
        entries = list(walk(parsed.blocks, commit.data))
    except MstError as exc:
        raise RepoVerificationError(f"malformed record tree: {exc}") from exc
    for path, cid in entries:
        try:
            collection, rkey = split_path(path)
        except RepoVerificationError as exc:
            problems.append((path, exc.reason))
            continue
        if include is not None and not include(collection):
            continue
        try:
            value = _record_value(parsed.blocks, cid)
        except ValueError as exc:
            problems.append((path, str(exc)))
            continue
        records.append(RepoRecord(collection, rkey, str(cid), value))
    return VerifiedRepo(
        did=did,
        rev=commit.rev,
        commit_cid=str(commit.cid),
        data_cid=str(commit.data),
        records=records,
        problems=problems,
    )


def _record_value(blocks: dict[CidLink, bytes], cid: CidLink) -> dict[str, Any]:
    data = blocks.get(cid)
    if data is None:
        raise ValueError(f"missing block {cid} (the record)")
    if cid.codec != CODEC_DAG_CBOR:
        raise ValueError(f"the record's CID {cid} is not dag-cbor")
    try:
        value = dagcbor.ipld_to_json(dagcbor.decode_record(data))
    except ValueError as exc:
        raise ValueError(f"the record does not decode: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("the record is not an object")
    return value
