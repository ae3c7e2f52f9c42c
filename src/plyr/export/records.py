"""The user's plyr records for an export, as their PDS holds them.

Each of plyr's collections is listed the way any client may (`com.atproto.repo.listRecords`
needs no sign-in), page by page, and each record becomes `records/<collection>/<rkey>.json`
with the value the PDS returned. When the PDS cannot be read (down, moved, refusing), the
records plyr builds from its own rows stand in (`plyr.tracks.records`,
`plyr.social.records`: the fields plyr writes), and the manifest says which collections
came from where and why. One failed call is enough to stop asking: a PDS that is down
would otherwise cost a timeout per collection.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from plyr.atproto.repo import RepoClient
from plyr.atproto.syntax import is_valid_record_key
from plyr.atproto.xrpc import XrpcClient
from plyr.db.models import PublishState, RecordState, Track
from plyr.runtime import Runtime
from plyr.social import records as _social_records  # noqa: F401 - registers the builders
from plyr.social import sync
from plyr.social.tags import track_tags
from plyr.tracks.records import track_record

log = logging.getLogger(__name__)

PAGE = 100
# Past this many records in one collection a PDS is not answering honestly (a cursor that
# never ends): stop there rather than grow the manifest without bound.
MAX_RECORDS = 200_000


@dataclass(frozen=True, slots=True)
class RecordFile:
    name: str
    data: bytes


@dataclass(slots=True)
class RecordsReport:
    """Where each collection's records came from, for the manifest."""

    pds: str
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # why the PDS could not be read

    def as_manifest(self) -> dict[str, Any]:
        sources = {entry["source"] for entry in self.collections.values()}
        source = "pds" if sources <= {"pds"} else "plyr" if sources == {"plyr"} else "mixed"
        note = None
        if self.problem is not None:
            note = (
                f"your pds ({self.pds}) could not be read ({self.problem}), so for the "
                "collections marked “plyr” records/ holds the records plyr built from its own "
                "index: the fields plyr writes, which may differ from the pds's copies, and "
                "without records other apps wrote there"
            )
        return {
            "source": source,
            "pds": self.pds,
            "note": note,
            "collections": self.collections,
            "files": self.files,
        }


def plyr_collections(runtime: Runtime) -> list[str]:
    """Every record collection under plyr's namespace (teal.fm's and others' are not plyr's)."""
    prefix = f"{runtime.lexicons.namespace}."
    return sorted(nsid for nsid in runtime.lexicons.collections if nsid.startswith(prefix))


def _file(
    report: RecordsReport,
    collection: str,
    rkey: str,
    value: dict[str, Any],
    uri: str | None,
    cid: str | None,
    source: str,
) -> RecordFile:
    name = f"records/{collection}/{quote(rkey, safe='._~-')}.json"
    report.files.append({"file": name, "uri": uri, "cid": cid, "source": source})
    data = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return RecordFile(name, data + b"\n")


async def _blob(
    runtime: Runtime, cid: str | None, key: str | None, mime_type: str
) -> dict[str, Any] | None:
    """The blob reference the record carries, rebuilt: the CID plyr kept, the stored
    object's size, the type plyr stored it as (the PDS may have named it otherwise)."""
    if not cid or not key:
        return None
    info = await runtime.storage.stat(key)
    size = info.size if info is not None else 0
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime_type, "size": size}


async def _track_records(runtime: Runtime, did: str, collection: str) -> list[tuple[Any, ...]]:
    async with runtime.sessions() as db:
        tracks = list(
            await db.scalars(
                select(Track)
                .where(Track.artist_did == did, Track.publish_state == PublishState.published)
                .order_by(Track.id)
            )
        )
        tags = {track.id: await track_tags(db, track.id) for track in tracks}
    built = []
    for track in tracks:
        audio = await _blob(
            runtime,
            track.audio_blob_cid,
            track.stream_key or track.original_key,
            track.stream_content_type or "audio/mpeg",
        )
        image_type = mimetypes.guess_type(track.image_key or "")[0] or "image/jpeg"
        image = await _blob(runtime, track.image_blob_cid, track.image_key, image_type)
        fields = track_record(
            runtime.settings, track, tags=tags[track.id], audio_blob=audio, image_blob=image
        )
        value = {"$type": collection, **fields}
        built.append((track.rkey, value, track.atproto_uri, track.atproto_cid))
    return built


async def built_records(runtime: Runtime, did: str, collection: str) -> list[tuple[Any, ...]]:
    """The records plyr holds the rows of, for one collection: (rkey, value, uri, cid).
    Only published ones (what the PDS would hold); none for a collection plyr does not
    write."""
    name = collection.removeprefix(f"{runtime.lexicons.namespace}.")
    if name == "track":
        return await _track_records(runtime, did, collection)
    kind = next((kind for kind in sync.registered() if kind.name == name), None)
    if kind is None:
        return []
    model = kind.model
    built = []
    async with runtime.sessions() as db:
        rows = await db.scalars(
            select(model)
            .where(model.did == did, model.record_state == RecordState.published)
            .order_by(model.rkey)
        )
        for row in list(rows):
            fields = await kind.build(db, runtime, row)
            if fields is not None:
                value = {"$type": collection, **fields}
                built.append((row.rkey, value, row.atproto_uri, row.atproto_cid))
        await db.rollback()  # builders may note what a row points at; an export changes nothing
    return built


def _problem(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]


async def record_files(
    runtime: Runtime, did: str, pds_url: str, report: RecordsReport
) -> AsyncIterator[RecordFile]:
    """Each plyr record of `did`, from the PDS while it answers, else from plyr's rows."""
    repo = RepoClient(XrpcClient(runtime.http, pds_url), did)
    for collection in plyr_collections(runtime):
        written: set[str] = set()
        cursor: str | None = None
        while report.problem is None:
            try:
                page = await repo.list_records(collection, limit=PAGE, cursor=cursor)
            except Exception as exc:  # any failure: plyr's own copies stand in
                report.problem = _problem(exc)
                log.warning("export of %s: the pds could not be read: %s", did, report.problem)
                break
            for record in page.records:
                rkey = record.uri.rsplit("/", 1)[-1]
                if not is_valid_record_key(rkey):  # it names a file in the zip
                    log.warning("export of %s: skipped a record at %r", did, record.uri[:300])
                    continue
                if rkey not in written:
                    written.add(rkey)
                    yield _file(
                        report, collection, rkey, record.value, record.uri, record.cid, "pds"
                    )
            if not page.cursor or page.cursor == cursor:
                break
            if len(written) >= MAX_RECORDS:
                log.warning("export of %s: stopped %s at %d records", did, collection, MAX_RECORDS)
                break
            cursor = page.cursor
        if report.problem is None:
            report.collections[collection] = {"source": "pds", "count": len(written)}
            continue
        from_pds = len(written)
        for rkey, value, uri, cid in await built_records(runtime, did, collection):
            if rkey not in written:
                written.add(rkey)
                yield _file(report, collection, rkey, value, uri, cid, "plyr")
        report.collections[collection] = {
            "source": "plyr" if from_pds == 0 else "mixed",
            "count": len(written),
            "from_pds": from_pds,
        }
