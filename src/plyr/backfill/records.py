"""Turning a verified repository's records into index rows: the registered indexers do the
work, exactly as for records that arrive through the firehose.

Records are indexed in two phases across all repositories: first what others point at
(tracks, profiles), then what points at tracks (likes, comments, lists), so a like of a
track in a repository fetched later still finds its track. Between the phases a repo's
second-phase records wait in a spool (`Spool`: memory while small, then a temporary file)
as JSON lines, so memory stays bounded however many repositories a relay lists.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select

from plyr.atproto.firehose import RecordEvent
from plyr.atproto.repo_car import RepoRecord, VerifiedRepo
from plyr.atproto.syntax import format_datetime
from plyr.backfill.report import Skipped
from plyr.db.models import Comment, Like, MusicList, Profile, Track, utcnow
from plyr.ingest import IngestHandler, RecordSkipped, handler_for
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

# What other records point at: indexed for every repository before anything else.
FIRST_PHASE = ("actor.profile", "track")
SPOOL_IN_MEMORY = 32 * 1024 * 1024


@dataclass
class Indexed:
    """What indexing some records came to."""

    counts: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    # Records an indexer failed on unexpectedly (a bug, the database going away): the repo
    # is not marked done, so the next run tries it again.
    errors: list[str] = field(default_factory=list)

    def add(self, other: Indexed) -> None:
        self.counts.update(other.counts)
        self.skipped.extend(other.skipped)
        self.errors.extend(other.errors)


def kind_of(collection: str, namespace: str) -> str:
    return collection.removeprefix(namespace + ".")


def in_namespace(namespace: str) -> Any:
    prefix = namespace + "."
    return lambda collection: collection.startswith(prefix)


def event_for(repo_did: str, rev: str, record: RepoRecord) -> RecordEvent:
    """The event the firehose would have delivered for the record's creation."""
    return RecordEvent(
        seq=0,
        did=repo_did,
        action="create",
        collection=record.collection,
        rkey=record.rkey,
        cid=record.cid,
        record=record.value,
        time=format_datetime(utcnow()),
        rev=rev,
    )


def split_phases(repo: VerifiedRepo, namespace: str) -> tuple[list[RepoRecord], list[RepoRecord]]:
    first: list[RepoRecord] = []
    second: list[RepoRecord] = []
    for record in repo.records:
        if not record.collection.startswith(namespace + "."):
            continue
        kind = kind_of(record.collection, namespace)
        (first if kind in FIRST_PHASE else second).append(record)
    # Profiles before tracks; within a kind the tree's order (by record key: oldest first).
    first.sort(key=lambda record: FIRST_PHASE.index(kind_of(record.collection, namespace)))
    return first, second


async def index_records(runtime: Runtime, did: str, rev: str, records: list[RepoRecord]) -> Indexed:
    """Hand each record to the indexer of its collection; note what it leaves out."""
    namespace = runtime.settings.atproto_namespace
    outcome = Indexed()
    for record in records:
        event = event_for(did, rev, record)
        handler = handler_for(namespace, record.collection)
        if handler is None:
            reason = f"plyr has no indexer for {record.collection}"
            outcome.skipped.append(Skipped(event.uri, reason))
            continue
        await _apply(runtime, handler, event, outcome)
    return outcome


async def _apply(
    runtime: Runtime, handler: IngestHandler, event: RecordEvent, outcome: Indexed
) -> None:
    """One event through its indexer, counted, or noted as skipped or failed."""
    try:
        await handler(runtime, event)
    except RecordSkipped as skipped:
        outcome.skipped.append(Skipped(event.uri, skipped.reason))
    except Exception as exc:
        log.exception("indexing %s %s failed", event.action, event.uri)
        outcome.errors.append(f"{event.uri}: {type(exc).__name__}: {exc}")
    else:
        outcome.counts[event.collection] += 1


# Rows of each kind that stand for records (a row whose record has gone is removed).
_MODELS: dict[str, Any] = {
    "track": (Track, Track.artist_did),
    "like": (Like, Like.did),
    "comment": (Comment, Comment.did),
    "list": (MusicList, MusicList.did),
    "actor.profile": (Profile, Profile.did),
}


async def remove_missing(
    runtime: Runtime, did: str, rev: str, present: dict[str, set[str]]
) -> Indexed:
    """Records indexed from an older commit of this repo that it no longer holds were
    deleted while nobody listened: their rows go, through the indexers' own delete path.
    Rows without a revision (written before plyr kept one) or from this commit or a later
    one are left alone."""
    namespace = runtime.settings.atproto_namespace
    outcome = Indexed()
    for kind, (model, owner) in _MODELS.items():
        collection = f"{namespace}.{kind}"
        handler = handler_for(namespace, collection)
        if handler is None:
            continue
        async with runtime.sessions() as db:
            rows = (
                await db.execute(
                    select(model.rkey).where(
                        owner == did,
                        model.atproto_uri.is_not(None),
                        model.atproto_rev.is_not(None),
                        model.atproto_rev < rev,
                    )
                )
            ).all()
        kept = present.get(collection, set())
        for (rkey,) in rows:
            if rkey in kept:
                continue
            event = RecordEvent(
                seq=0,
                did=did,
                action="delete",
                collection=collection,
                rkey=rkey,
                cid=None,
                record=None,
                time=format_datetime(utcnow()),
                rev=rev,
            )
            await _apply(runtime, handler, event, outcome)
    return outcome


@dataclass(frozen=True, slots=True)
class Pending:
    """A repository between the phases: its second-phase records and what it holds."""

    did: str
    rev: str
    records: list[RepoRecord]
    present: dict[str, set[str]]
    # What went wrong unexpectedly in the first phase (the repo is not done then).
    errors: list[str] = field(default_factory=list)


class Spool:
    """Pending repositories as JSON lines: in memory up to 32 MiB, then a temporary file."""

    def __init__(self) -> None:
        self._file: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8"
        )
        self.count = 0

    def put(self, pending: Pending) -> None:
        line = {
            "did": pending.did,
            "rev": pending.rev,
            "records": [
                [record.collection, record.rkey, record.cid, record.value]
                for record in pending.records
            ],
            "present": {name: sorted(keys) for name, keys in pending.present.items()},
            "errors": pending.errors,
        }
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[Pending]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            data = json.loads(line)
            yield Pending(
                did=data["did"],
                rev=data["rev"],
                records=[RepoRecord(*fields) for fields in data["records"]],
                present={name: set(keys) for name, keys in data["present"].items()},
                errors=data["errors"],
            )

    def close(self) -> None:
        self._file.close()


def present_keys(repo: VerifiedRepo, namespace: str) -> dict[str, set[str]]:
    """The record keys the repository holds, per collection of plyr's namespace."""
    present: dict[str, set[str]] = {}
    for record in repo.records:
        if record.collection.startswith(namespace + "."):
            present.setdefault(record.collection, set()).add(record.rkey)
    # Records the tree names but that could not be read still exist: never remove their rows.
    for path, _reason in repo.problems:
        collection, _, rkey = path.partition("/")
        if collection.startswith(namespace + "."):
            present.setdefault(collection, set()).add(rkey)
    return present
