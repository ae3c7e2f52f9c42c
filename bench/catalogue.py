"""Fill a database with a realistic catalogue, to measure plyr's read paths at scale.

At scale 1: 10 000 artists, 100 000 tracks, 2 000 albums and 5 000 playlists (5 to 30
entries each), 300 tags (0 to 4 per track), 300 000 likes and 1 000 000 plays over the last
90 days. Popularity is Zipf-like: a few artists own many tracks, and a few tracks (mostly
theirs) get most plays and likes. Names are built from syllables; every track is a
published record (rkey, at:// URI, CID), with artwork on most.

The schema comes from plyr's own migrations (`plyr.db.migrate.upgrade_async`); nothing
the app relies on (foreign keys, indexes, unique constraints) is turned off. Rows go in
with SQLAlchemy Core executemany on SQLite and with COPY (asyncpg
`copy_records_to_table`) on PostgreSQL. The same seed and `--now` give the same rows.

Usage:
  uv run python bench/catalogue.py /tmp/plyr-bench.db [--scale 1] [--seed 8] [--replace]
  uv run python bench/catalogue.py postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench
A PostgreSQL database that does not exist is created; `--replace` empties an existing
target first (deletes the SQLite file, drops and recreates the PostgreSQL database).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import itertools
import math
import random
import time
from base64 import b32encode
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
from sqlalchemy import Table, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from plyr.atproto.tid import tid_from_time
from plyr.config import normalise_database_url
from plyr.db import migrate
from plyr.db.engine import create_engine
from plyr.db.models import (
    Artist,
    Base,
    Like,
    ListItem,
    ListType,
    MusicList,
    Play,
    PublishState,
    RecordState,
    Tag,
    Track,
    TrackTag,
)

NAMESPACE = "fm.plyr"
BATCH = 20_000

# --- sizes -------------------------------------------------------------------------------

FULL = {
    "artists": 10_000,
    "tracks": 100_000,
    "albums": 2_000,
    "playlists": 5_000,
    "plays": 1_000_000,
    "likes": 300_000,
    "tags": 300,
}


def sizes_for(scale: float) -> dict[str, int]:
    found = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    found["artists"] = max(found["artists"], 20)
    found["tracks"] = max(found["tracks"], 100)
    found["tags"] = max(found["tags"], 30)
    # Likes are unique per (listener, track): never ask for more pairs than are likely free.
    found["likes"] = min(found["likes"], found["artists"] * found["tracks"] // 20)
    return found


def words(text: str) -> list[str]:
    return text.split()


# --- names -------------------------------------------------------------------------------

ONSETS = words("b c d f g h j k l m n p r s t v w y z br cr dr fl gr kr pl st tr sh ch th")
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "x", "m", "nd", "rk", "st", "th"]
LINKS = ["of", "the", "in", "and", "for", "to", "on", "with", "under", "after"]
REAL_WORDS = words(
    "night light blue dream love echo river summer winter ghost heart city rain gold fire "
    "glass signal static paper ocean velvet neon midnight morning lost slow electric wild "
    "silver shadow garden machine tape memory stars moon"
)
GENRES = words(
    "ambient techno house lofi hip-hop jazz folk indie rock punk metal pop synthwave "
    "drum-and-bass dubstep trap rnb soul funk disco classical piano experimental noise "
    "drone shoegaze dream-pop post-rock emo hardcore garage grime jungle breakbeat "
    "electro idm downtempo trip-hop chillwave vaporwave city-pop kpop jpop reggae dub ska "
    "country bluegrass blues gospel latin afrobeat dancehall field-recording soundtrack "
    "chiptune acoustic singer-songwriter beats instrumental live remix cover demo ai"
)
PDS_HOSTS = [
    f"https://{name}.us-{side}.host.bsky.network"
    for name in ("shiitake", "porcini", "morel", "enoki", "oyster", "chanterelle")
    for side in ("east", "west")
]
FILE_TYPES = [("mp3", 60), ("flac", 15), ("wav", 10), ("m4a", 10), ("ogg", 5)]


@dataclass
class Names:
    rng: random.Random
    used_handles: set[str] = field(default_factory=set)

    def word(self, syllables: int | None = None) -> str:
        count = syllables or self.rng.choice((1, 2, 2, 2, 3, 3))
        return "".join(
            self.rng.choice(ONSETS) + self.rng.choice(VOWELS) + self.rng.choice(CODAS)
            for _ in range(count)
        )

    def any_word(self) -> str:
        return self.rng.choice(REAL_WORDS) if self.rng.random() < 0.35 else self.word()

    def title(self) -> str:
        shape = self.rng.random()
        if shape < 0.35:
            return self.any_word().capitalize()
        if shape < 0.7:
            return f"{self.any_word().capitalize()} {self.any_word()}"
        if shape < 0.9:
            return (
                f"{self.any_word().capitalize()} {self.rng.choice(LINKS)} {self.any_word()}".strip()
            )
        words = [self.any_word() for _ in range(self.rng.randint(3, 5))]
        return " ".join(words).capitalize()

    def person(self) -> tuple[str, str]:
        """(handle, display name) — a person's name or a project's."""
        first, last = self.word(2), self.word(self.rng.choice((1, 2, 3)))
        if self.rng.random() < 0.6:
            display = f"{first.capitalize()} {last.capitalize()}"
            stem = f"{first}{last}" if self.rng.random() < 0.5 else first
        else:
            display = self.rng.choice(("the ", "", "", "dj ")) + f"{first} {self.any_word()}"
            stem = display.replace(" ", "")
        handle = f"{stem[:20]}.bsky.social"
        while handle in self.used_handles:
            handle = f"{stem[:16]}{self.rng.randint(1, 9999)}.bsky.social"
        self.used_handles.add(handle)
        return handle, display


# --- helpers -----------------------------------------------------------------------------


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def fake_cid(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return "bafyrei" + b32encode(digest).decode().lower().rstrip("=")[:52]


def content_hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def zipf_weights(count: int, exponent: float) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect_left(cum, rng.random() * cum[-1])


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=rng.random() * span)


# --- the catalogue, as rows --------------------------------------------------------------


@dataclass
class TableRows:
    table: Table
    columns: list[str]
    rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]
    count: int


@dataclass
class Catalogue:
    """Builds the rows table by table; later tables use what earlier ones chose."""

    sizes: dict[str, int]
    seed: int
    now: datetime
    rng: random.Random = field(init=False)
    names: Names = field(init=False)
    dids: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    track_artist: list[int] = field(default_factory=list)  # index into dids, per track - 1
    track_created: list[datetime] = field(default_factory=list)
    track_uri: list[str] = field(default_factory=list)
    track_cid: list[str] = field(default_factory=list)
    track_duration: list[int] = field(default_factory=list)
    track_album: list[str | None] = field(default_factory=list)
    track_pop_cum: list[float] = field(default_factory=list)
    play_tracks: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.names = Names(random.Random(self.seed + 1))

    # artists ---------------------------------------------------------------------------

    def artists(self) -> TableRows:
        rng = self.rng
        rows: list[tuple[Any, ...]] = []
        start = self.now - timedelta(days=900)
        for index in range(self.sizes["artists"]):
            digest = hashlib.sha256(f"{self.seed}:{index}".encode()).digest()
            did = "did:plc:" + b32encode(digest).decode()[:24].lower()
            handle, display = self.names.person()
            created = between(rng, start, self.now - timedelta(days=1))
            avatar = (
                f"https://cdn.bsky.app/img/avatar/plain/{did}/{fake_cid('avatar', did)}@jpeg"
                if rng.random() < 0.7
                else None
            )
            self.dids.append(did)
            self.handles.append(handle)
            self.display.append(display)
            rows.append(
                (
                    did,
                    handle,
                    display if rng.random() < 0.9 else None,
                    avatar,
                    rng.choice(PDS_HOSTS),
                    created,
                    created,
                )
            )
        columns = ["did", "handle", "display_name", "avatar_url", "pds_url"]
        return TableRows(table_of(Artist), [*columns, "created_at", "updated_at"], rows, len(rows))

    # tracks (plays are drawn first: play_count is the number of Play rows) --------------

    def plan_tracks(self) -> None:
        rng = self.rng
        n_artists, n_tracks = self.sizes["artists"], self.sizes["tracks"]
        # Artists ranked by fame: the famous ones own more tracks and get more plays each.
        fame_order = list(range(n_artists))
        rng.shuffle(fame_order)
        fame = [0.0] * n_artists
        for rank, artist in enumerate(fame_order):
            fame[artist] = 1.0 / (rank + 1) ** 0.9
        owner_cum = cumulative(zipf_weights(n_artists, 0.7))
        start = self.now - timedelta(days=730)
        step = (self.now - start) / n_tracks
        popularity = []
        for index in range(n_tracks):
            artist = fame_order[pick(rng, owner_cum)]
            self.track_artist.append(artist)
            self.track_created.append(start + step * index + timedelta(seconds=rng.random() * 600))
            self.track_duration.append(int(90 + (330 * rng.random() ** 1.6)))
            self.track_album.append(None)
            popularity.append(fame[artist] * math.exp(rng.gauss(0.0, 1.6)))
        self.track_pop_cum = cumulative(popularity)
        self.play_tracks = [pick(rng, self.track_pop_cum) for _ in range(self.sizes["plays"])]

    def plan_albums(self) -> list[tuple[int, str, list[int]]]:
        """(artist, album name, track indexes) — each track on one album at most."""
        rng = self.rng
        by_artist: dict[int, list[int]] = {}
        for index, artist in enumerate(self.track_artist):
            by_artist.setdefault(artist, []).append(index)
        candidates = [artist for artist, found in by_artist.items() if len(found) >= 5]
        weights = cumulative([len(by_artist[a]) ** 0.5 for a in candidates])
        albums: list[tuple[int, str, list[int]]] = []
        taken: set[int] = set()
        names_used: set[tuple[int, str]] = set()
        attempts = 0
        while len(albums) < self.sizes["albums"] and attempts < self.sizes["albums"] * 20:
            attempts += 1
            artist = candidates[pick(rng, weights)]
            free = [t for t in by_artist[artist] if t not in taken]
            if len(free) < 5:
                continue
            size = min(len(free), rng.randint(5, 30))
            first = rng.randrange(0, len(free) - size + 1)
            chosen = free[first : first + size]
            name = self.names.title()
            if (artist, name.casefold()) in names_used:
                continue
            names_used.add((artist, name.casefold()))
            taken.update(chosen)
            for track in chosen:
                self.track_album[track] = name
            albums.append((artist, name, chosen))
        return albums

    def tracks(self) -> TableRows:
        rng = self.rng
        plays = [0] * self.sizes["tracks"]
        for track in self.play_tracks:
            plays[track] += 1
        rows: list[tuple[Any, ...]] = []
        for index in range(self.sizes["tracks"]):
            artist = self.track_artist[index]
            did = self.dids[artist]
            created = self.track_created[index]
            ext = rng.choices([f for f, _ in FILE_TYPES], [w for _, w in FILE_TYPES])[0]
            digest = content_hash(self.seed, "audio", index)
            original = f"audio/{digest[:2]}/{digest}.{ext}"
            stream = (
                original if ext in ("mp3", "m4a", "ogg") else f"audio/{digest[:2]}/{digest}.mp3"
            )
            stream_type = {"m4a": "audio/mp4", "ogg": "audio/ogg"}.get(ext, "audio/mpeg")
            has_art = rng.random() < 0.85
            art = content_hash(self.seed, "art", index)
            rkey = tid_from_time(created, index % 1024)
            uri = f"at://{did}/{NAMESPACE}.track/{rkey}"
            cid = fake_cid("track", index)
            self.track_uri.append(uri)
            self.track_cid.append(cid)
            duration = self.track_duration[index]
            loudness = round(rng.gauss(-12.0, 4.0), 2)
            state = PublishState.published if rng.random() < 0.995 else PublishState.failed
            description = (
                " ".join(self.names.any_word() for _ in range(rng.randint(4, 20)))
                if rng.random() < 0.3
                else None
            )
            rows.append(
                (
                    index + 1,
                    did,
                    self.names.title(),
                    self.display[artist],
                    self.track_album[index],
                    description,
                    [],
                    ext,
                    duration,
                    digest,
                    original,
                    stream,
                    stream_type,
                    f"images/{art[:2]}/{art}.jpg" if has_art else None,
                    f"images/{art[:2]}/{art}.thumb.webp" if has_art else None,
                    duration * rng.choice((16_000, 24_000, 40_000, 120_000)),
                    {"mp3": "mp3", "flac": "flac", "wav": "pcm_s16le", "m4a": "aac"}.get(
                        ext, "vorbis"
                    ),
                    rng.choice((44_100, 44_100, 48_000)),
                    2,
                    loudness,
                    round(min(0.0, -14.0 - loudness), 2),
                    rkey,
                    uri if state == PublishState.published else None,
                    cid if state == PublishState.published else None,
                    state.value,
                    None if state == PublishState.published else "the pds refused the record",
                    plays[index],
                    created,
                    created,
                )
            )
        columns = words(
            "id artist_did title artist_name album description features file_type "
            "duration_seconds content_hash original_key stream_key stream_content_type image_key "
            "thumbnail_key size_bytes codec sample_rate channels loudness_lufs gain_db rkey "
            "atproto_uri atproto_cid publish_state publish_error play_count created_at updated_at"
        )
        return TableRows(table_of(Track), columns, rows, len(rows))

    # tags ------------------------------------------------------------------------------

    def tags(self) -> tuple[TableRows, TableRows]:
        rng = self.rng
        wanted = self.sizes["tags"]
        names = list(dict.fromkeys(GENRES))[:wanted]
        while len(names) < wanted:
            candidate = self.names.word(rng.choice((1, 2)))
            if candidate not in names and len(candidate) <= 40:
                names.append(candidate)
        tag_rows = [(index + 1, name) for index, name in enumerate(names)]
        # Genres first, so the common tags are real-looking; "ai" is rare but present.
        use_cum = cumulative(zipf_weights(len(names), 1.0))
        ai_id = names.index("ai") + 1 if "ai" in names else None
        links: list[tuple[Any, ...]] = []
        for track in range(1, self.sizes["tracks"] + 1):
            count = rng.choices((0, 1, 2, 3, 4), (15, 30, 30, 15, 10))[0]
            chosen: list[int] = []
            if ai_id is not None and rng.random() < 0.02:
                chosen.append(ai_id)
            while len(chosen) < count:
                tag = pick(rng, use_cum) + 1
                if tag not in chosen:
                    chosen.append(tag)
            links.extend((track, tag, position) for position, tag in enumerate(chosen))
        return (
            TableRows(table_of(Tag), ["id", "name"], tag_rows, len(tag_rows)),
            TableRows(table_of(TrackTag), ["track_id", "tag_id", "position"], links, len(links)),
        )

    # albums and playlists --------------------------------------------------------------

    def lists(self, albums: list[tuple[int, str, list[int]]]) -> tuple[TableRows, TableRows]:
        rng = self.rng
        list_rows: list[tuple[Any, ...]] = []
        items: list[tuple[Any, ...]] = []
        item_id = 0

        def add_list(
            artist: int, kind: ListType, name: str, key: str | None, tracks: list[int]
        ) -> None:
            nonlocal item_id
            list_id = len(list_rows) + 1
            did = self.dids[artist]
            latest = max(self.track_created[t] for t in tracks)
            created = between(rng, latest, min(latest + timedelta(days=30), self.now))
            rkey = tid_from_time(created, list_id % 1024)
            list_rows.append(
                (
                    list_id,
                    did,
                    kind.value,
                    name,
                    key,
                    None,
                    None,
                    None,
                    rkey,
                    f"at://{did}/{NAMESPACE}.list/{rkey}",
                    fake_cid("list", list_id),
                    RecordState.published.value,
                    None,
                    1,
                    created,
                    created,
                )
            )
            for position, track in enumerate(tracks):
                item_id += 1
                items.append(
                    (
                        item_id,
                        list_id,
                        position,
                        self.track_uri[track],
                        self.track_cid[track],
                        track + 1,
                    )
                )

        for artist, name, tracks in albums:
            add_list(artist, ListType.album, name, " ".join(name.casefold().split()), tracks)
        for _ in range(self.sizes["playlists"]):
            owner = rng.randrange(len(self.dids))
            size = rng.randint(5, 30)
            tracks = list(dict.fromkeys(pick(rng, self.track_pop_cum) for _ in range(size)))
            add_list(owner, ListType.playlist, self.names.title().lower(), None, tracks)
        columns = words(
            "id did list_type name unique_key description image_key thumbnail_key rkey "
            "atproto_uri atproto_cid record_state record_error sync_version created_at updated_at"
        )
        item_columns = ["id", "list_id", "position", "subject_uri", "subject_cid", "track_id"]
        return (
            TableRows(table_of(MusicList), columns, list_rows, len(list_rows)),
            TableRows(table_of(ListItem), item_columns, items, len(items)),
        )

    # likes and plays -------------------------------------------------------------------

    def likes(self) -> TableRows:
        rng = self.rng
        # Some listeners like a lot, most a little.
        likers = list(range(len(self.dids)))
        rng.shuffle(likers)
        liker_cum = cumulative(zipf_weights(len(likers), 0.6))
        seen: set[tuple[int, int]] = set()
        rows: list[tuple[Any, ...]] = []
        while len(rows) < self.sizes["likes"]:
            liker = likers[pick(rng, liker_cum)]
            track = pick(rng, self.track_pop_cum)
            if (liker, track) in seen:
                continue
            seen.add((liker, track))
            did = self.dids[liker]
            created = between(rng, self.track_created[track], self.now)
            rkey = tid_from_time(created, len(rows) % 1024)
            like_id = len(rows) + 1
            rows.append(
                (
                    like_id,
                    did,
                    track + 1,
                    self.track_cid[track],
                    rkey,
                    f"at://{did}/{NAMESPACE}.like/{rkey}",
                    fake_cid("like", like_id),
                    RecordState.published.value,
                    None,
                    1,
                    created,
                )
            )
        columns = words(
            "id did track_id subject_cid rkey atproto_uri atproto_cid record_state record_error "
            "sync_version created_at"
        )
        return TableRows(table_of(Like), columns, rows, len(rows))

    def plays(self) -> TableRows:
        rng = self.rng
        window_start = self.now - timedelta(days=90)

        def rows() -> Iterator[tuple[Any, ...]]:
            for index, track in enumerate(self.play_tracks):
                start = max(window_start, self.track_created[track])
                duration_ms = self.track_duration[track] * 1000
                yield (
                    index + 1,
                    track + 1,
                    self.dids[rng.randrange(len(self.dids))] if rng.random() < 0.7 else None,
                    f"{rng.getrandbits(128):032x}",
                    rng.randint(min(30_000, duration_ms), duration_ms),
                    between(rng, start, self.now),
                )

        columns = ["id", "track_id", "listener_did", "listen_id", "listened_ms", "created_at"]
        return TableRows(table_of(Play), columns, rows(), len(self.play_tracks))


# --- writing -----------------------------------------------------------------------------


def batches(rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, BATCH)):
        yield chunk


async def write_sqlite(conn: AsyncConnection, data: TableRows) -> None:
    statement = insert(data.table)
    for chunk in batches(data.rows):
        await conn.execute(statement, [dict(zip(data.columns, row, strict=True)) for row in chunk])


async def write_postgres(conn: AsyncConnection, data: TableRows) -> None:
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    json_columns = {index for index, name in enumerate(data.columns) if name in ("features",)}
    for chunk in batches(data.rows):
        if json_columns:
            import json

            chunk = [
                tuple(json.dumps(v) if i in json_columns else v for i, v in enumerate(row))
                for row in chunk
            ]
        await driver.copy_records_to_table(data.table.name, records=chunk, columns=data.columns)


def prepare_sqlite(target: str, replace: bool) -> str:
    path = Path(target).resolve()
    if path.exists():
        if not replace:
            raise SystemExit(f"{path} exists; pass --replace to start again")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def prepare_target(target: str, replace: bool) -> str:
    """The database URL for the target; makes or empties the database as asked."""
    if "://" not in target:
        return prepare_sqlite(target, replace)
    url = make_url(normalise_database_url(target))
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and replace:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if exists:
            raise SystemExit(f"database {name} exists; pass --replace to start again")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.render_as_string(hide_password=False)


async def fill(url: str, sizes: dict[str, int], seed: int, now: datetime) -> None:
    started = time.perf_counter()
    await migrate.upgrade_async(url)
    print(f"{'migrations':<14} {'':>10} {time.perf_counter() - started:8.1f} s")
    engine: AsyncEngine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    catalogue = Catalogue(sizes, seed, now)

    async def put(label: str, build: Any) -> Any:
        began = time.perf_counter()
        made = build()
        tables = made if isinstance(made, tuple) else (made,)
        built = time.perf_counter() - began
        for data in tables:
            async with engine.begin() as conn:
                if postgres:
                    await write_postgres(conn, data)
                else:
                    await write_sqlite(conn, data)
            print(
                f"{data.table.name:<14} {data.count:>10,} {time.perf_counter() - began:8.1f} s"
                + (f"  (rows built in {built:.1f} s)" if data is tables[0] else "")
            )
            began = time.perf_counter()
            built = 0.0
        return made

    total = time.perf_counter()
    await put("artists", catalogue.artists)
    began = time.perf_counter()
    catalogue.plan_tracks()
    albums = catalogue.plan_albums()
    print(f"{'(planning)':<14} {'':>10} {time.perf_counter() - began:8.1f} s")
    await put("tracks", catalogue.tracks)
    await put("tags", catalogue.tags)
    await put("lists", lambda: catalogue.lists(albums))
    await put("likes", catalogue.likes)
    await put("plays", catalogue.plays)
    began = time.perf_counter()
    if postgres:
        async with engine.begin() as conn:
            for table in ("tracks", "tags", "lists", "list_items", "likes", "plays"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        # What autovacuum does after a load this size (statistics, and the visibility map
        # that index-only scans need); this server may run with autovacuum off.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE)"))
    print(f"{'(finish)':<14} {'':>10} {time.perf_counter() - began:8.1f} s")
    print(f"{'total':<14} {'':>10} {time.perf_counter() - total:8.1f} s (without migrations)")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a SQLite file path or a PostgreSQL URL")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100 000 tracks")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--now",
        default=None,
        help="ISO time the catalogue ends at (default: today 00:00 UTC, so reruns agree)",
    )
    parser.add_argument("--replace", action="store_true", help="empty the target first")
    args = parser.parse_args()
    now = (
        datetime.fromisoformat(args.now).astimezone(UTC)
        if args.now
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    sizes = sizes_for(args.scale)
    print(", ".join(f"{count:,} {name}" for name, count in sizes.items()) + f"; seed {args.seed}")

    async def run() -> None:
        url = await prepare_target(args.target, args.replace)
        print(f"target: {make_url(url).render_as_string(hide_password=True)}")
        await fill(url, sizes, args.seed, now)

    asyncio.run(run())


if __name__ == "__main__":
    main()
