"""The repo client against the real reference PDS from the local network."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plyr.atproto import dagcbor
from plyr.atproto.devnet import Network
from plyr.atproto.lexicon import LexiconValidationError, load_lexicons
from plyr.atproto.repo import Create, Delete, RecordRef, RepoClient, Update
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import (
    AuthenticationFailed,
    InvalidRequest,
    PasswordSession,
    PayloadTooLarge,
    PdsUnavailable,
    XrpcClient,
    XrpcError,
)

COLLECTION = "fm.plyr.track"


def track(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "artist": "alice",
        "fileType": "mp3",
        "audioUrl": "https://plyr.example/audio/1",
        "createdAt": "2026-11-25T10:00:00.000Z",
        **extra,
    }


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def repo_for(http: httpx.AsyncClient, net: Network, handle: str) -> RepoClient:
    account = net.account(handle)
    session = await PasswordSession.create(http, net.pds_url, account.handle, account.password)
    return RepoClient(XrpcClient(http, net.pds_url, session), session.did)


@pytest.fixture
async def alice(http: httpx.AsyncClient, atproto_net: Network) -> RepoClient:
    return await repo_for(http, atproto_net, "alice.test")


async def test_create_get_and_local_cid(alice: RepoClient) -> None:
    rkey = next_tid()
    ref = await alice.create_record(COLLECTION, rkey, track("first light"))
    assert ref.uri == f"at://{alice.did}/{COLLECTION}/{rkey}"
    stored = await alice.get_record(COLLECTION, rkey)
    assert stored is not None
    assert stored.value["title"] == "first light"
    assert stored.cid == ref.cid
    # The CID is the one we compute from the record's DAG-CBOR bytes.
    assert ref.cid == dagcbor.record_cid({"$type": COLLECTION, **track("first light")})


async def test_put_record_is_idempotent_under_a_chosen_key(alice: RepoClient) -> None:
    rkey = next_tid()
    first = await alice.put_record(COLLECTION, rkey, track("draft"))
    again = await alice.put_record(COLLECTION, rkey, track("draft"))  # a retried job
    assert again == first
    renamed = await alice.put_record(COLLECTION, rkey, track("final"))
    assert renamed.uri == first.uri
    assert renamed.cid != first.cid
    stored = await alice.get_record(COLLECTION, rkey)
    assert stored is not None
    assert stored.value["title"] == "final"


async def test_create_on_a_taken_key_is_refused(alice: RepoClient) -> None:
    rkey = next_tid()
    await alice.create_record(COLLECTION, rkey, track("one"))
    # The reference PDS answers 500 here (its unique constraint), which is why jobs write
    # with putRecord: a retry of a create that already landed must not fail forever.
    with pytest.raises(XrpcError):
        await alice.create_record(COLLECTION, rkey, track("two"))
    stored = await alice.get_record(COLLECTION, rkey)
    assert stored is not None
    assert stored.value["title"] == "one"


async def test_list_records_pages_through_everything(alice: RepoClient) -> None:
    collection = f"fm.plyr.pagetest{next_tid()[:6]}"
    keys = [next_tid() for _ in range(7)]
    for index, rkey in enumerate(keys):
        await alice.put_record(collection, rkey, {"n": index, "createdAt": "2026-11-25T10:00:00Z"})
    page = await alice.list_records(collection, limit=3)
    assert len(page.records) == 3
    assert page.cursor
    seen = [
        record.uri.rsplit("/", 1)[1] async for record in alice.iter_records(collection, page_size=3)
    ]
    assert sorted(seen) == sorted(keys)
    assert len(seen) == len(set(seen)) == 7


async def test_delete_is_safe_to_repeat(alice: RepoClient) -> None:
    rkey = next_tid()
    await alice.create_record(COLLECTION, rkey, track("short-lived"))
    await alice.delete_record(COLLECTION, rkey)
    assert await alice.get_record(COLLECTION, rkey) is None
    await alice.delete_record(COLLECTION, rkey)  # a retry after the first one landed


async def test_blob_upload_and_limit(alice: RepoClient, atproto_net: Network) -> None:
    # Not a truncated real format: the PDS sniffs blobs, and a cut-off MP3 header makes
    # the reference PDS fail with 500 ("End-Of-Stream") instead of storing it.
    audio = bytes(range(256)) * 64
    blob = await alice.upload_blob(audio, "audio/mpeg")
    assert blob["$type"] == "blob"
    assert blob["mimeType"] == "audio/mpeg"
    assert blob["size"] == len(audio)
    assert blob["ref"]["$link"] == dagcbor.cid_for_bytes(audio, codec="raw")
    ref = await alice.create_record(COLLECTION, next_tid(), track("with audio", audioBlob=blob))
    stored = await alice.get_record(COLLECTION, ref.rkey)
    assert stored is not None
    assert stored.value["audioBlob"]["ref"] == blob["ref"]

    with pytest.raises(PayloadTooLarge):
        await alice.upload_blob(b"\0" * (atproto_net.blob_limit + 1), "audio/mpeg")


async def test_apply_writes_is_one_commit(alice: RepoClient) -> None:
    keep, change, drop = next_tid(), next_tid(), next_tid()
    await alice.put_record(COLLECTION, change, track("before"))
    await alice.put_record(COLLECTION, drop, track("doomed"))
    refs = await alice.apply_writes(
        [
            Create(COLLECTION, keep, track("new")),
            Update(COLLECTION, change, track("after")),
            Delete(COLLECTION, drop),
        ]
    )
    assert isinstance(refs[0], RecordRef)
    assert isinstance(refs[1], RecordRef)
    assert refs[2] is None
    changed = await alice.get_record(COLLECTION, change)
    assert changed is not None
    assert changed.value["title"] == "after"
    assert await alice.get_record(COLLECTION, drop) is None
    assert await alice.get_record(COLLECTION, keep) is not None


async def test_lexicon_validation_runs_before_anything_is_sent(alice: RepoClient) -> None:
    lexicons = load_lexicons("fm.plyr")
    strict = RepoClient(alice.xrpc, alice.did, validator=lexicons.validate_record)
    rkey = next_tid()
    with pytest.raises(LexiconValidationError, match="title"):
        await strict.put_record(COLLECTION, rkey, track("x" * 300))
    no_audio = {k: v for k, v in track("no audio").items() if k != "audioUrl"}
    with pytest.raises(LexiconValidationError, match="audioUrl or audioBlob"):
        await strict.put_record(COLLECTION, rkey, no_audio)
    assert await alice.get_record(COLLECTION, rkey) is None
    # A valid record goes through the same client.
    assert (await strict.put_record(COLLECTION, rkey, track("fine"))).rkey == rkey


async def test_writing_to_someone_elses_repo_is_refused(
    http: httpx.AsyncClient, alice: RepoClient, atproto_net: Network
) -> None:
    bob_did = atproto_net.account("bob.test").did
    intruder = RepoClient(alice.xrpc, bob_did)
    with pytest.raises((AuthenticationFailed, InvalidRequest)):
        await intruder.put_record(COLLECTION, next_tid(), track("not mine"))


async def test_bad_password_and_refresh(http: httpx.AsyncClient, atproto_net: Network) -> None:
    with pytest.raises(AuthenticationFailed):
        await PasswordSession.create(http, atproto_net.pds_url, "alice.test", "wrong-password")
    account = atproto_net.account("alice.test")
    session = await PasswordSession.create(
        http, atproto_net.pds_url, account.handle, account.password
    )
    old_refresh = session.refresh_jwt
    await session._refresh()
    # Refresh tokens are single-use and carry a fresh id (access tokens minted in the same
    # second can be byte-identical, so compare the refresh token).
    assert session.refresh_jwt != old_refresh
    repo = RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)
    assert (await repo.put_record(COLLECTION, next_tid(), track("after refresh"))).cid


async def test_pds_down_is_unavailable(http: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    repo = RepoClient(
        XrpcClient(http, f"http://127.0.0.1:{port}"), "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    )
    with pytest.raises(PdsUnavailable, match="cannot reach"):
        await repo.put_record(COLLECTION, next_tid(), track("nowhere"))
