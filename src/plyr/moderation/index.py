"""The per-process index of fingerprints: the reference works and every fingerprinted track
of one database, in a `FingerprintIndex` (plyr.moderation.matching).

Each process keeps one per database engine (tests run several plyr instances in one
process): loaded whole on first use, then brought up to date before each search by comparing
ids (new rows added, deleted ones discarded), so a scan sees what other processes stored
without reloading everything.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db.models import ReferenceWork, Track, TrackFingerprint
from plyr.media.fingerprint import Fingerprint
from plyr.moderation.matching import FingerprintIndex
from plyr.runtime import Runtime


@dataclass
class IndexState:
    index: FingerprintIndex = field(default_factory=FingerprintIndex)
    works: set[int] = field(default_factory=set)
    tracks: dict[int, str] = field(default_factory=dict)  # track id -> artist DID
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_indexes: weakref.WeakKeyDictionary[AsyncEngine, IndexState] = weakref.WeakKeyDictionary()


def index_state(runtime: Runtime) -> IndexState:
    state = _indexes.get(runtime.engine)
    if state is None:
        state = _indexes[runtime.engine] = IndexState()
    return state


async def current_index(runtime: Runtime) -> FingerprintIndex:
    """The process's index of this database, brought up to date."""
    state = index_state(runtime)
    async with state.lock:
        async with runtime.sessions() as db:
            work_ids = set((await db.scalars(select(ReferenceWork.id))).all())
            rows = await db.execute(
                select(TrackFingerprint.track_id, Track.artist_did).join(
                    Track, Track.id == TrackFingerprint.track_id
                )
            )
            track_rows: dict[int, str] = {track_id: did for track_id, did in rows}
            for gone in state.works - work_ids:
                state.index.discard(f"work:{gone}")
            for gone in set(state.tracks) - set(track_rows):
                state.index.discard(f"track:{gone}")
            new_works = work_ids - state.works
            if new_works:
                for work in await db.scalars(
                    select(ReferenceWork).where(ReferenceWork.id.in_(new_works))
                ):
                    if work.fingerprint:  # a web service's work: nothing to match locally
                        state.index.add(f"work:{work.id}", stored(work))
            new_tracks = set(track_rows) - set(state.tracks)
            for chunk in _chunks(sorted(new_tracks), 500):
                for row in await db.scalars(
                    select(TrackFingerprint).where(TrackFingerprint.track_id.in_(chunk))
                ):
                    state.index.add(f"track:{row.track_id}", stored(row))
        state.works, state.tracks = work_ids, track_rows
        return state.index


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def stored(row: ReferenceWork | TrackFingerprint) -> Fingerprint:
    return Fingerprint.from_bytes(row.fingerprint, row.duration_seconds, row.engine)


def same_artist_keys(runtime: Runtime, did: str) -> set[str]:
    return {f"track:{tid}" for tid, owner in index_state(runtime).tracks.items() if owner == did}
