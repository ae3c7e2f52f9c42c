"""Verifying whole repositories (`com.atproto.sync.getRepo`): the local PDS's real exports
verify and give their records back; a tampered copy (a changed block, another key, another
DID, a re-signed commit, a missing tree node, a malformed tree) fails with its reason."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.devnet import Network
from plyr.atproto.mst import Entry, Node, encode_node, key_height, root_of
from plyr.atproto.repo import RepoClient
from plyr.atproto.repo_car import RepoVerificationError, load_repo, parse_signing_key, read_car
from plyr.atproto.signatures import SigningKey
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from tests.support.car_files import (
    block,
    commit_fields,
    fetch_repo,
    signed_commit,
    signing_key_of,
    write_car,
)

DID = "did:plc:verifytestaaaaaaaaaaaaaa"


@pytest.fixture
async def carol(atproto_net: Network) -> AsyncIterator[RepoClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        account = atproto_net.account("carol.test")
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        yield RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)


def note(text: str) -> dict[str, Any]:
    return {"text": text, "createdAt": "2026-11-25T10:00:00.000Z"}


async def test_a_real_repository_verifies_and_gives_its_records(
    atproto_net: Network, carol: RepoClient
) -> None:
    collection = f"fm.plyrtest{secrets.token_hex(4)}.note"
    written = {}
    for index in range(30):  # enough keys for a tree of several layers
        rkey = next_tid()
        written[rkey] = await carol.put_record(collection, rkey, note(f"note {index}"))
    deleted = next(iter(written))
    await carol.delete_record(collection, deleted)
    key = await signing_key_of(atproto_net, carol.did)

    repo = load_repo(await fetch_repo(atproto_net, carol.did), did=carol.did, signing_key=key)

    assert repo.did == carol.did
    assert repo.problems == []
    ours = {r.rkey: r for r in repo.records if r.collection == collection}
    assert set(ours) == set(written) - {deleted}
    for rkey, record in ours.items():
        assert record.cid == written[rkey].cid
        assert record.value["$type"] == collection
        assert record.value["text"].startswith("note ")
        assert record.path == f"{collection}/{rkey}"
    # The rev is the repo's latest: the one a fresh write after it sorts above.
    latest = await carol.put_record(collection, next_tid(), note("later"))
    again = load_repo(await fetch_repo(atproto_net, carol.did), did=carol.did, signing_key=key)
    assert again.rev > repo.rev
    assert again.commit_cid != repo.commit_cid
    assert latest.cid in {r.cid for r in again.records}

    # Only the collections asked for are decoded; the tree is still checked whole.
    some = load_repo(
        await fetch_repo(atproto_net, carol.did),
        did=carol.did,
        signing_key=key,
        include=lambda name: name == collection,
    )
    assert {r.collection for r in some.records} == {collection}
    # The local PLC writes the legacy form (an uncompressed secp256k1 point); its did:key
    # and Multikey forms are the same key.
    (parsed_key,) = parse_signing_key(key)
    assert parsed_key.curve == "secp256k1"
    for form in (parsed_key.did_key(), parsed_key.multikey()):
        verified = load_repo(
            await fetch_repo(atproto_net, carol.did), did=carol.did, signing_key=form
        )
        assert verified.commit_cid == again.commit_cid


async def test_tampered_copies_of_a_real_repository_fail(
    atproto_net: Network, carol: RepoClient
) -> None:
    collection = f"fm.plyrtest{secrets.token_hex(4)}.note"
    written = await carol.put_record(collection, next_tid(), note("original"))
    key = await signing_key_of(atproto_net, carol.did)
    car = await fetch_repo(atproto_net, carol.did)
    parsed = read_car(car)
    root = parsed.roots[0]
    commit = commit_fields(parsed.blocks[root])

    def rebuilt(blocks: dict[CidLink, bytes], roots: list[CidLink] | None = None) -> bytes:
        return write_car(roots or [root], blocks)

    def fails(data: bytes, reason: str, *, did: str = carol.did, signing: str = key) -> None:
        with pytest.raises(RepoVerificationError, match=reason) as caught:
            load_repo(data, did=did, signing_key=signing)
        assert caught.value.reason == str(caught.value)

    # A record's bytes changed under its CID.
    record_cid = CidLink.from_str(written.cid)
    changed = dict(parsed.blocks)
    changed[record_cid] = parsed.blocks[record_cid].replace(b"original", b"0riginal")
    fails(rebuilt(changed), "fails its CID")

    # The right repository checked against another key, or claimed for another DID.
    fails(car, "bad signature", signing=SigningKey.generate().did_key())
    fails(car, "bad signature", signing=SigningKey.generate("secp256k1").did_key())
    bob = atproto_net.account("bob.test")
    assert bob.did != carol.did
    fails(car, "not " + bob.did, did=bob.did)

    # The commit re-signed by someone else: a well-formed commit, the wrong signer.
    forged_cid, forged = signed_commit(
        carol.did, commit["data"], commit["rev"], SigningKey.generate()
    )
    reforged = dict(parsed.blocks)
    reforged[forged_cid] = forged
    fails(rebuilt(reforged, [forged_cid]), "bad signature")
    # The signature of the real commit does not carry over to changed fields.
    moved = {**commit, "rev": next_tid()}
    moved_cid, moved_bytes = block(moved)
    fails(rebuilt({**parsed.blocks, moved_cid: moved_bytes}, [moved_cid]), "bad signature")

    # A tree node missing: the tree cannot be checked.
    without_root_node = {cid: data for cid, data in parsed.blocks.items() if cid != commit["data"]}
    fails(rebuilt(without_root_node), "missing block")
    fails(rebuilt({}), r"missing block .*\(the commit\)")
    fails(car[: len(car) - 5], "truncated")
    fails(b"\x05abc", "truncated")

    # A record's own block missing: that record is a problem, the rest stands.
    without_record = {cid: data for cid, data in parsed.blocks.items() if cid != record_cid}
    repo = load_repo(rebuilt(without_record), did=carol.did, signing_key=key)
    path = f"{collection}/{written.rkey}"
    assert [p for p, _ in repo.problems] == [path]
    assert "missing block" in repo.problems[0][1]
    assert path not in {r.path for r in repo.records}
    assert repo.records  # the others are there


def _own_repo(
    records: dict[str, dict[str, Any]], key: SigningKey, *, version: int = 3
) -> tuple[bytes, dict[CidLink, bytes]]:
    blocks: dict[CidLink, bytes] = {}
    pairs = []
    for path, value in records.items():
        cid, data = block(dagcbor.json_to_ipld(value))
        blocks[cid] = data
        pairs.append((path, cid))
    data_root = root_of(pairs, blocks)
    commit_cid, commit = signed_commit(DID, data_root, next_tid(), key, version=version)
    blocks[commit_cid] = commit
    return write_car([commit_cid], blocks), blocks


def test_a_repository_we_build_and_sign_verifies_v2_and_v3() -> None:
    key = SigningKey.generate("secp256k1")
    records = {
        f"fm.plyr.like/{next_tid()}": {"$type": "fm.plyr.like", "n": index} for index in range(50)
    }
    for version in (2, 3):
        car, _ = _own_repo(records, key, version=version)
        repo = load_repo(car, did=DID, signing_key=key.did_key())
        assert sorted(r.path for r in repo.records) == sorted(records)
        assert all(r.value == records[r.path] for r in repo.records)
    car, _ = _own_repo(records, key, version=1)
    with pytest.raises(RepoVerificationError, match="unsupported commit version 1"):
        load_repo(car, did=DID, signing_key=key.did_key())


def test_a_malformed_tree_fails_even_when_signed() -> None:
    key = SigningKey.generate()
    value_cid, value = block({"$type": "fm.plyr.like", "n": 1})
    # Keys out of order inside one node.
    low, high = sorted(
        k for k in (f"fm.plyr.like/{next_tid()}" for _ in range(40)) if key_height(k) == 0
    )[:2]
    for entries, reason in (
        ([Entry(high, value_cid), Entry(low, value_cid)], "out of order"),
        # A key on a layer its height does not say (a height-0 key over a subtree).
        ([Entry(low, value_cid, right=value_cid)], "bottom layer"),
    ):
        node_bytes = encode_node(Node(None, entries))
        node_cid, _ = block(dagcbor.decode_record(node_bytes))
        commit_cid, commit = signed_commit(DID, node_cid, next_tid(), key)
        car = write_car([commit_cid], {commit_cid: commit, node_cid: node_bytes, value_cid: value})
        with pytest.raises(RepoVerificationError, match=f"malformed record tree: .*{reason}"):
            load_repo(car, did=DID, signing_key=key.did_key())
    # A path that is not collection/rkey is that record's problem.
    bad_path_repo, _ = _own_repo({"not-a-path": {"$type": "x.y.z"}}, key)
    repo = load_repo(bad_path_repo, did=DID, signing_key=key.did_key())
    assert repo.records == []
    assert repo.problems[0][0] == "not-a-path"
