"""`stream`'s choice between the file plyr keeps and a transcode made while the player
listens, and the transcodes themselves.

**The choice** (`choose`). The file a player gets unless it asks otherwise is the stream
the web player plays (the original when browsers play it, else plyr's MP3 of it). A
transcode is made when the player asks for

- a `format` plyr can encode that the file is not in: `mp3`, `opus` (Opus in Ogg; `ogg`
  means the same, as the only Vorbis encoder at hand is ffmpeg's experimental one),
  `aac` (ADTS) or `m4a` (AAC in fragmented MP4). `flac`, `wav` and anything else plyr
  cannot make are served as stored when the file is in them, otherwise ignored: the stored
  stream goes out untouched, as Navidrome falls back to the raw file;
- a `maxBitRate` (kbit/s, 0 = none) under the file's bit rate (its size over its
  duration): the same format when plyr can encode it, else MP3;
- a `timeOffset` (seconds, OpenSubsonic's `transcodeOffset`): the answer starts there, so
  it is always a transcode (players that know the extension seek with it whatever they were
  sent; a stored file starts at 0);
- `format=raw` is the original file as uploaded; with a `timeOffset` it too is a
  transcode, from the original, into its own format where plyr can encode that.

A transcode's bit rate is the lowest of the wish, the file's own (re-encoding higher only
adds bytes) and the most the codec is worth (320 MP3/AAC, 256 Opus), at least the codec's
floor (32; 16 for Opus).

**The transcodes** run in worker threads (PyAV releases the GIL while it codes), at most
`MAX_TRANSCODES` at once in a process; a request finding none free waits up to
`SLOT_WAIT_SECONDS` for one, then gets error 0 (HTTP 503). One listener runs at most
`PER_LISTENER` at once (a third: error 0, HTTP 429), and a transcode whose client reads
nothing for `live.IDLE_SECONDS` stops and frees its slot.

**The estimate** (`estimateContentLength`) is the exact length the container says (a
track keeps whole seconds) times the rate, plus `ESTIMATE_MARGIN_SECONDS` and
`ESTIMATE_HEADERS`: the answer is padded to it, and a short estimate would cut the end.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import anyio.to_thread
from starlette.responses import Response

from plyr.media.streaming import LIVE_FORMATS, LiveFormat, audio_seconds, encode_stream
from plyr.serving.live import LiveResponse, Stopped
from plyr.storage.base import Storage
from plyr.storage.blocking import StoredFile
from plyr.subsonic.errors import Code, SubsonicError

MAX_TRANSCODES: Final = max(2, 2 * (os.cpu_count() or 1))
SLOT_WAIT_SECONDS: Final = 10.0
ALIASES: Final = {"mp3": "mp3", "opus": "opus", "ogg": "opus", "aac": "aac", "m4a": "m4a"}
DEFAULT_TARGET: Final = "mp3"
PER_LISTENER: Final = 2
ESTIMATE_MARGIN_SECONDS: Final = 1.0
ESTIMATE_HEADERS: Final = 4096  # tags, Ogg/MP4 headers


@dataclass(frozen=True, slots=True)
class StoredAudio:
    """A file plyr keeps for a track (the stream or the original)."""

    key: str
    content_type: str
    size: int
    duration: float | None
    codec: str | None  # the codec family (mp3, aac, opus, vorbis, flac…), when known

    @property
    def suffix(self) -> str:
        return self.key.rpartition("/")[2].rpartition(".")[2].lower()

    @property
    def kbps(self) -> int | None:
        if not self.duration or self.size <= 0:
            return None
        return math.ceil(self.size * 8 / self.duration / 1000)

    def is_in(self, wanted: str) -> bool:
        """Whether the file is already in the format a player named."""
        codec = self.codec or self.suffix
        return {
            "mp3": self.suffix == "mp3",
            "opus": codec == "opus",
            "ogg": self.suffix in ("ogg", "opus"),
            "aac": codec == "aac",
            "m4a": self.suffix == "m4a",
        }.get(wanted, self.suffix == wanted)


@dataclass(frozen=True, slots=True)
class Transcode:
    source: StoredAudio
    target: LiveFormat
    kbps: int
    offset: float

    @property
    def seconds(self) -> float | None:
        return (
            None if self.source.duration is None else max(0.0, self.source.duration - self.offset)
        )

    def estimated_length(self, exact_duration: float | None = None) -> int | None:
        """Duration (the exact one when known) times bit rate, with a margin: what
        `estimateContentLength` announces."""
        duration = exact_duration if exact_duration else self.source.duration
        if duration is None:
            return None
        seconds = max(0.0, duration - self.offset) + ESTIMATE_MARGIN_SECONDS
        return math.ceil(seconds * self.kbps * 1000 / 8) + ESTIMATE_HEADERS


def choose(source: StoredAudio, fmt: str | None, max_kbps: int, offset: float) -> Transcode | None:
    """The transcode `stream` makes of `source`, or None to send the file as it is."""
    wanted = (fmt or "").strip().lower() or None
    live = LIVE_FORMATS.get(ALIASES.get(wanted or "", ""))
    if wanted is not None and live is None and not source.is_in(wanted):
        wanted, max_kbps = None, 0  # one plyr cannot make: the stored file, as Navidrome
    in_format = wanted is None or source.is_in(wanted)
    fast_enough = max_kbps <= 0 or (source.kbps is not None and source.kbps <= max_kbps)
    if in_format and fast_enough and offset <= 0:
        return None
    if live is None or in_format:
        own = next((name for name in ALIASES if source.is_in(name)), DEFAULT_TARGET)
        live = LIVE_FORMATS[ALIASES[own]]
    ceilings = [live.max_kbps]
    if max_kbps > 0:
        ceilings.append(max_kbps)
    if source.kbps is not None:
        ceilings.append(source.kbps)
    return Transcode(source, live, live.kbps(min(ceilings)), max(0.0, offset))


class Slots:
    """At most `limit` transcodes at once in this process; the others wait their turn.

    A slot given back passes straight to the first waiter still waiting (on its own loop);
    a waiter that gives up (timeout, its client gone) before the hand-over lands passes it
    on in turn, so no slot is ever lost between them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        # A response dropped unsent gives back from any thread, and from `__del__`: the
        # collector may run it on a thread already holding the lock, hence reentrant.
        self._lock = threading.RLock()
        self._waiting: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    async def acquire(self, wait: float) -> Callable[[], None]:
        """Wait for a slot; the function returned gives it back (once)."""
        with self._lock:
            if self.busy < self.limit:
                self.busy += 1
                return self._releaser()
            loop = asyncio.get_running_loop()
            ticket: asyncio.Future[None] = loop.create_future()
            self._waiting.append((loop, ticket))
        try:
            await asyncio.wait_for(asyncio.shield(ticket), wait)
        except BaseException as exc:
            with self._lock:
                handed = ticket.done() and not ticket.cancelled()
                if not handed:
                    ticket.cancel()
            if handed and isinstance(exc, TimeoutError):
                return self._releaser()
            if handed:
                self._releaser()()
            if isinstance(exc, TimeoutError):
                raise SubsonicError(
                    Code.GENERIC, "plyr is transcoding all it can: try again soon", status=503
                ) from None
            raise
        return self._releaser()

    def _releaser(self) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._pass_on()

        return release

    def _pass_on(self) -> None:
        """Give a slot to the first waiter, or free it (the lock is held)."""
        while self._waiting:
            loop, ticket = self._waiting.popleft()
            if not ticket.done() and not loop.is_closed():
                loop.call_soon_threadsafe(self._deliver, ticket)
                return
        self.busy -= 1

    def _deliver(self, ticket: asyncio.Future[None]) -> None:
        with self._lock:
            if ticket.done():  # its request gave up meanwhile
                self._pass_on()
            else:
                ticket.set_result(None)


SLOTS = Slots(MAX_TRANSCODES)


@dataclass(slots=True)
class Counts:
    """This process's transcodes: how each ended, how many run now (tests and the bench
    read them)."""

    running: int = 0
    finished: int = 0  # sent to the end
    stopped: int = 0  # the answer ended first (the listener left, or the estimate was met)
    failed: int = 0


COUNTS = Counts()
_counting = threading.Lock()


def _count(field: str, change: int = 1) -> None:
    with _counting:
        setattr(COUNTS, field, getattr(COUNTS, field) + change)


class Listeners:
    """How many transcodes each listener runs now in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running: dict[str, int] = {}
        self._lock = threading.RLock()

    def take(self, did: str) -> Callable[[], None]:
        with self._lock:
            if self.running.get(did, 0) >= self.limit:
                raise SubsonicError(
                    Code.GENERIC,
                    f"at most {self.limit} transcodes at once: stop another first",
                    status=429,
                )
            self.running[did] = self.running.get(did, 0) + 1
        given = False

        def give() -> None:
            nonlocal given
            with self._lock:
                if not given:
                    given = True
                    left = self.running.pop(did) - 1
                    if left:
                        self.running[did] = left

        return give


LISTENERS = Listeners(PER_LISTENER)


def _seconds_of(storage: Storage, source: StoredAudio) -> float | None:
    path_for = getattr(storage, "path_for", None)
    if path_for is not None:
        return audio_seconds(path_for(source.key))
    with StoredFile(storage, source.key, source.size) as file:
        return audio_seconds(file)


async def _headers(
    storage: Storage, plan: Transcode, estimate: bool
) -> tuple[list[tuple[bytes, bytes]], int | None]:
    headers = [
        (b"content-type", plan.target.content_type.encode()),
        (b"cache-control", b"no-store"),
    ]
    if not estimate:
        return headers, None
    try:
        exact = await anyio.to_thread.run_sync(_seconds_of, storage, plan.source)
    except Exception:  # unreadable: the transcode will say so; estimate from the track
        exact = None
    return headers, plan.estimated_length(exact)


async def head_answer(storage: Storage, plan: Transcode, *, estimate: bool) -> Response:
    """A transcode's HEAD: the GET's headers, nothing transcoded."""
    headers, length = await _headers(storage, plan, estimate)
    response = Response(status_code=200)
    del response.headers["content-length"]
    for name, value in [*headers, (b"accept-ranges", b"none")]:
        response.headers[name.decode()] = value.decode()
    if length is not None:
        response.headers["content-length"] = str(length)
    return response


async def live_answer(
    storage: Storage,
    plan: Transcode,
    *,
    estimate: bool,
    did: str,
    failed: Callable[[BaseException], Response] | None = None,
) -> LiveResponse:
    """The transcode as an answer for `did`, once a slot is free; `failed` answers in its
    place when the source cannot be read (before any byte is sent)."""
    give = LISTENERS.take(did)
    try:
        release = await SLOTS.acquire(SLOT_WAIT_SECONDS)
    except BaseException:
        give()
        raise
    path_for = getattr(storage, "path_for", None)
    source = plan.source

    def close() -> None:
        release()
        give()

    def produce(emit: Callable[[bytes], None], stopped: Callable[[], bool]) -> None:
        _count("running")
        ended = "failed"
        try:
            if path_for is not None:
                path = path_for(source.key)
                encode_stream(
                    path, plan.target, plan.kbps, emit, offset=plan.offset, stopped=stopped
                )
            else:
                with StoredFile(storage, source.key, source.size) as file:
                    encode_stream(
                        file, plan.target, plan.kbps, emit, offset=plan.offset, stopped=stopped
                    )
            ended = "stopped" if stopped() else "finished"
        except Stopped:
            ended = "stopped"
            raise
        finally:
            _count("running", -1)
            _count(ended)

    try:
        headers, length = await _headers(storage, plan, estimate)
    except BaseException:
        close()
        raise
    return LiveResponse(
        produce, headers=headers, content_length=length, on_close=close, on_fail=failed
    )
