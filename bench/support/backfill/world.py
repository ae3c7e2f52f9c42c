"""Repositories full of plyr records on a local PLC + PDS, written as any client would:
each account's tracks (a short tone each, distinct per track, uploaded as a blob and named
by the record's audioBlob), a profile, then likes, timed comments and playlists pointing
at the other accounts' tracks, in applyWrites batches."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from plyr.atproto.devnet import Network, start_network
from plyr.atproto.repo import Create, RecordRef, RepoClient
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import utcnow
from support.load.tones import write_tone

NS = "fm.plyr"
BATCH = 200  # applyWrites takes at most 200 writes
PASSWORD = "bench-backfill-password"  # noqa: S105 - accounts of a throwaway local network


@dataclass(frozen=True)
class Plan:
    accounts: int = 10
    tracks: int = 20  # per account
    likes: int = 110  # per account
    comments: int = 60  # per account
    lists: int = 10  # per account
    list_items: int = 20
    seconds: float = 1.0  # of each track's tone


@dataclass
class Written:
    records: dict[str, int] = field(default_factory=dict)

    def add(self, collection: str, count: int = 1) -> None:
        self.records[collection] = self.records.get(collection, 0) + count

    @property
    def total(self) -> int:
        return sum(self.records.values())


def start(folder: Path, plan: Plan) -> Network:
    accounts = tuple((f"bf{index}.test", PASSWORD) for index in range(plan.accounts))
    return start_network(
        folder / "net", accounts=accounts, plc_port=_free_port(), pds_port=_free_port()
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _writes(repo: RepoClient, creates: list[Create]) -> list[RecordRef]:
    refs: list[RecordRef] = []
    for start_at in range(0, len(creates), BATCH):
        done = await repo.apply_writes(list(creates[start_at : start_at + BATCH]))
        refs += [ref for ref in done if ref is not None]
    return refs


async def fill(net: Network, plan: Plan, folder: Path, seed: int = 7) -> Written:
    written = Written()
    draw = random.Random(seed)
    now = format_datetime(utcnow())
    tracks: dict[str, list[RecordRef]] = {}
    async with httpx.AsyncClient(timeout=60) as http:
        repos: dict[str, RepoClient] = {}
        for account in net.accounts.values():
            session = await PasswordSession.create(http, net.pds_url, account.handle, PASSWORD)
            repos[account.did] = RepoClient(XrpcClient(http, net.pds_url, session), account.did)
        for number, (did, repo) in enumerate(repos.items()):
            creates = [
                Create(f"{NS}.actor.profile", "self", {"bio": f"bench {number}", "createdAt": now})
            ]
            for index in range(plan.tracks):
                tone = folder / f"tone-{number}-{index}.mp3"
                await anyio.to_thread.run_sync(
                    write_tone, tone, plan.seconds, 200.0 + 7 * index + number
                )
                blob = await repo.upload_blob(tone, "audio/mpeg")
                record = {
                    "title": f"bench {number}.{index}",
                    "artist": f"bench {number}",
                    "fileType": "mp3",
                    "createdAt": now,
                    "audioBlob": blob,
                    "duration": int(plan.seconds),
                }
                creates.append(Create(f"{NS}.track", next_tid(), record))
            refs = await _writes(repo, creates)
            tracks[did] = [ref for ref in refs if f"/{NS}.track/" in ref.uri]
            written.add(f"{NS}.actor.profile")
            written.add(f"{NS}.track", plan.tracks)
        for did, repo in repos.items():
            others = [ref for owner, refs in tracks.items() if owner != did for ref in refs]
            liked = draw.sample(others, min(plan.likes, len(others)))
            creates = [
                Create(f"{NS}.like", next_tid(), {"subject": _ref(ref), "createdAt": now})
                for ref in liked
            ]
            for index in range(plan.comments):
                ref = draw.choice(others)
                comment = {
                    "subject": _ref(ref),
                    "text": f"comment {index}",
                    "timestampMs": draw.randrange(0, int(plan.seconds * 1000)),
                    "createdAt": now,
                }
                creates.append(Create(f"{NS}.comment", next_tid(), comment))
            for index in range(plan.lists):
                items = draw.sample(others, min(plan.list_items, len(others)))
                playlist = {
                    "items": [{"subject": _ref(ref)} for ref in items],
                    "name": f"playlist {index}",
                    "listType": "playlist",
                    "createdAt": now,
                }
                creates.append(Create(f"{NS}.list", next_tid(), playlist))
            await _writes(repo, creates)
            written.add(f"{NS}.like", len(liked))
            written.add(f"{NS}.comment", plan.comments)
            written.add(f"{NS}.list", plan.lists)
    return written


def _ref(ref: RecordRef) -> dict[str, str]:
    return {"uri": ref.uri, "cid": ref.cid}
