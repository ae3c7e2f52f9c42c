"""Checking an export's zip against what the user did: originals byte for byte (SHA-256 of
the uploaded files), artwork as stored, a complete manifest, and the records as the PDS
holds them (read here as any client would, without plyr)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.lexicon import load_lexicons
from plyr.db.models import Track
from tests.support.plyr_server import PlyrServer


@dataclass(frozen=True)
class UploadedTrack:
    id: int
    title: str
    album: str | None
    tags: list[str]
    extension: str
    sha256: str  # of the file as uploaded
    size: int
    uri: str
    has_artwork: bool


@dataclass(frozen=True)
class Library:
    did: str
    tracks: list[UploadedTrack]
    liked_track_id: int
    comment: str
    playlist_id: int
    playlist_order: list[int]  # track ids, as the user ordered them
    bio: str


def plyr_collections(namespace: str = "fm.plyr") -> list[str]:
    registry = load_lexicons(namespace)
    return sorted(c for c in registry.collections if c.startswith(f"{namespace}."))


async def pds_records(net: Network, did: str, collection: str) -> dict[str, dict[str, Any]]:
    """Every record of a collection in the user's repository, by rkey (no auth)."""
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            response = await http.get(
                f"{net.pds_url}/xrpc/com.atproto.repo.listRecords", params=params
            )
            response.raise_for_status()
            body = response.json()
            for record in body["records"]:
                found[record["uri"].rsplit("/", 1)[-1]] = record["value"]
            cursor = body.get("cursor")
            if not body["records"] or not cursor:
                return found


def open_zip(data: bytes | Path) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    assert archive.testzip() is None  # every member's CRC checks out
    return archive


def zipped_records(archive: zipfile.ZipFile, collection: str) -> dict[str, dict[str, Any]]:
    prefix = f"records/{collection}/"
    return {
        name.removeprefix(prefix).removesuffix(".json"): json.loads(archive.read(name))
        for name in archive.namelist()
        if name.startswith(prefix)
    }


async def check_manifest_and_files(
    archive: zipfile.ZipFile, library: Library, plyr: PlyrServer
) -> dict[str, Any]:
    """Originals, artwork and the manifest's account of them, likes, comments, lists, bio."""
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "plyr-export"
    assert manifest["user"]["did"] == library.did
    assert manifest["missing"] == []
    by_id = {entry["id"]: entry for entry in manifest["tracks"]}
    assert set(by_id) >= {t.id for t in library.tracks}
    storage = plyr.settings.effective_storage_local_dir
    async with plyr.runtime.sessions() as db:
        rows = await db.execute(
            select(Track.id, Track.image_key).where(Track.artist_did == library.did)
        )
        image_keys = {track_id: key for track_id, key in rows}
    for track in library.tracks:
        entry = by_id[track.id]
        assert entry["title"] == track.title
        assert entry["album"] == track.album
        assert entry["tags"] == track.tags
        assert entry["uri"] == track.uri
        assert entry["cid"]
        original = entry["original"]
        assert original["file"].startswith("audio/")
        assert original["file"].endswith(f"-{track.id}.{track.extension}")
        data = archive.read(original["file"])
        assert hashlib.sha256(data).hexdigest() == track.sha256  # byte for byte as uploaded
        assert original["sha256"] == track.sha256
        assert original["size"] == track.size
        assert entry["content_sha256"] == track.sha256
        if track.has_artwork:
            artwork = entry["artwork"]
            assert artwork["file"].startswith("artwork/")
            picture = archive.read(artwork["file"])
            assert hashlib.sha256(picture).hexdigest() == artwork["sha256"]
            key = image_keys[track.id]
            assert key is not None
            assert picture == (storage / key).read_bytes()  # the artwork plyr keeps, as kept
        else:
            assert entry["artwork"] is None
    assert "/" not in by_id[library.tracks[0].id]["original"]["file"].removeprefix("audio/")

    liked = [like["track"]["id"] for like in manifest["likes"]]
    assert library.liked_track_id in liked
    assert any(c["text"] == library.comment for c in manifest["comments"])
    playlist = next(entry for entry in manifest["lists"] if entry["id"] == library.playlist_id)
    assert [item["id"] for item in playlist["items"]] == library.playlist_order
    assert [item["position"] for item in playlist["items"]] == sorted(
        item["position"] for item in playlist["items"]
    )
    assert any(
        entry["type"] == "album" and entry["name"] == "export album" for entry in manifest["lists"]
    )
    assert manifest["profile"]["bio"] == library.bio
    assert manifest["preferences"]["theme"] in ("system", "light", "dark")
    named = {entry["file"] for entry in manifest["records"]["files"]}
    assert named == {n for n in archive.namelist() if n.startswith("records/")}
    return dict(manifest)


async def check_records_from_pds(archive: zipfile.ZipFile, library: Library, net: Network) -> None:
    """records/ is exactly what the PDS holds, collection by collection."""
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["records"]["source"] == "pds"
    assert manifest["records"]["note"] is None
    for collection in plyr_collections():
        held = await pds_records(net, library.did, collection)
        assert zipped_records(archive, collection) == held, collection
        assert manifest["records"]["collections"][collection] == {
            "source": "pds",
            "count": len(held),
        }
    tracks = zipped_records(archive, "fm.plyr.track")
    assert {t.uri.rsplit("/", 1)[-1] for t in library.tracks} <= set(tracks)


SECRET_WORDS = ("token", "secret", "session", "dpop", "password", "csrf")


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def check_safe(archive: zipfile.ZipFile) -> None:
    """Every member under one of the export's folders, no way out of the folder it is
    unpacked in; no field of the manifest that could hold a credential."""
    for name in archive.namelist():
        parts = name.split("/")
        assert name == "manifest.json" or parts[0] in ("audio", "artwork", "records"), name
        assert not name.startswith("/"), name
        assert "\\" not in name, name
        assert all(part not in ("", ".", "..") for part in parts), name
    manifest = json.loads(archive.read("manifest.json"))
    fields = {key.lower() for key in _keys(manifest)}
    assert not [key for key in fields if any(word in key for word in SECRET_WORDS)], fields


async def check_export(
    data: bytes | Path, library: Library, plyr: PlyrServer, net: Network
) -> dict[str, Any]:
    archive = open_zip(data)
    check_safe(archive)
    manifest = await check_manifest_and_files(archive, library, plyr)
    await check_records_from_pds(archive, library, net)
    return manifest
