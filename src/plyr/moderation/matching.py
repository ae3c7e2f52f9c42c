"""Finding which known works (or other tracks) a fingerprint matches, and where.

The local engine is an inverted index over Chromaprint's raw sub-fingerprints. Why it is
shaped this way (figures from `bench/fingerprint.py`):

- Lookup by exact value, after masking the 4 lowest bits (fewer misses from a flipped
  bit): a re-encoded copy keeps roughly half of its values bit for bit, plenty of hits.
  Only values whose hash falls in a fixed quarter are indexed: the choice depends on the
  value alone, so a copy's hits are kept at the same rate, and the index is 4 times smaller.
- Candidates are voted on (work, offset difference): a copy cut or padded at the start
  hits one work at one constant offset; different music scatters its chance hits.
- Each of the best candidates is then aligned and compared bit for bit (popcount of XOR):
  the stretches whose bit error rate stays low, smoothed over ~2.5 s, are the matched
  ranges on both sides. Score = 100 x quality x (evidence + coverage) / 2: quality falls
  from 1 at a bit error rate of 0.10 to 0 at 0.30, evidence is the matched length up to
  20 s, coverage the matched share of the shorter side (silence aside). On a 3-minute
  track, an excerpt of a work scores about 95 for 60 s, 72 for 30 s, 48 for 15 s.
- Silence, hiss and held tones fingerprint as one value repeated, alike in every track:
  repeated values are neither indexed nor counted as agreement.
- ``add`` appends to a small sorted delta beside the main arrays; the delta is merged into
  the main arrays once it grows past a share of them, so adding one track stays cheap.
  ``discard`` marks a slot dead; dead postings are dropped at the next merge.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from plyr.media.fingerprint import ITEM_SECONDS, Fingerprint, UInt32Array

IntArray = npt.NDArray[np.int64]

_MASK: Final = np.uint32(0xFFFFFFF0)
_SELECT_MUL: Final = np.uint32(0x9E3779B1)  # Fibonacci hashing: spreads masked values
_SELECT_SHIFT: Final = np.uint32(30)  # keep values whose top 2 hash bits are 0: a quarter
_MAX_POSITION: Final = 65535  # positions are uint16: the first ~2.25 h of a work is indexed
_STOP_POSTINGS: Final = 5000  # a value this common (silence, a test tone) says nothing
_MIN_VOTES: Final = 3
_CANDIDATES: Final = 24  # works aligned bit for bit per search
_OFFSETS_PER_WORK: Final = 3  # a track may hold several excerpts of one work
_WINDOW: Final = 20  # items (~2.5 s) the bit error rate is smoothed over
_SEGMENT_BER: Final = 0.30  # smoothed bit error rate below which two stretches match
_MIN_SEGMENT: Final = 40  # items (~5 s): shorter agreement is chance or a common riff
_FULL_EVIDENCE_SECONDS: Final = 20.0
_CLEAN_BER: Final = 0.10  # at or below: a clean copy
_MERGE_SHARE: Final = 0.05  # merge the delta once it holds this share of the postings


@dataclass(frozen=True)
class MatchRange:
    """A stretch of the queried audio (start, end) that matches (matched_start, matched_end)
    of the other side; seconds, rounded to 0.1."""

    start: float
    end: float
    matched_start: float
    matched_end: float


@dataclass(frozen=True)
class ExternalWork:
    """What a web service knows about a recording it matched."""

    title: str | None
    artist: str | None
    external_id: str


@dataclass(frozen=True)
class Match:
    key: str  # "work:12", "track:34", "acoustid:<id>"
    score: int  # 0-100
    ranges: tuple[MatchRange, ...]
    external: ExternalWork | None = None


class MatcherUnavailable(Exception):
    """The matcher can't answer now (a web service down, slow or refusing): try later."""


class Matcher(Protocol):
    """Finds the known works a fingerprint matches. ``exclude`` lists keys never to
    report (the track itself); only matches scoring ``min_score`` or more come back."""

    name: str

    async def find(
        self, fp: Fingerprint, *, exclude: Collection[str] = (), min_score: int
    ) -> list[Match]: ...


def _selected(values: UInt32Array) -> tuple[UInt32Array, IntArray]:
    """The masked values the index keeps, and their positions."""
    masked = values & _MASK
    keep = ((masked * _SELECT_MUL) >> _SELECT_SHIFT) == 0
    keep &= ~_repeated(values)
    positions = np.flatnonzero(keep)
    return masked[positions], positions


def _repeated(values: UInt32Array) -> npt.NDArray[np.bool_]:
    """Items equal to the one before: silence, hiss or a held tone fingerprint as one value
    repeated, the same in every track, so they are no evidence of a match."""
    same = np.zeros(len(values), dtype=np.bool_)
    same[1:] = values[1:] == values[:-1]
    return same


class _Postings:
    """Sorted hash values with the slot and position each came from."""

    def __init__(
        self, hashes: UInt32Array, slots: npt.NDArray[np.int32], positions: npt.NDArray[np.uint16]
    ) -> None:
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.slots = slots[order]
        self.positions = positions[order]

    @classmethod
    def empty(cls) -> _Postings:
        return cls(np.empty(0, np.uint32), np.empty(0, np.int32), np.empty(0, np.uint16))

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def nbytes(self) -> int:
        return self.hashes.nbytes + self.slots.nbytes + self.positions.nbytes

    def lookup(
        self, hashes: UInt32Array, positions: IntArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        """(slot, reference position, query position) of every hit, common values skipped."""
        lo = np.searchsorted(self.hashes, hashes, side="left")
        hi = np.searchsorted(self.hashes, hashes, side="right")
        counts = hi - lo
        counts[counts > _STOP_POSTINGS] = 0
        total = int(counts.sum())
        firsts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        at = firsts + np.arange(total)
        return (
            self.slots[at].astype(np.int64),
            self.positions[at].astype(np.int64),
            np.repeat(positions, counts),
        )

    def merged(self, other: _Postings, alive: npt.NDArray[np.bool_]) -> _Postings:
        hashes = np.concatenate([self.hashes, other.hashes])
        slots = np.concatenate([self.slots, other.slots])
        positions = np.concatenate([self.positions, other.positions])
        keep = alive[slots]
        return _Postings(hashes[keep], slots[keep], positions[keep])


class FingerprintIndex:
    """Many fingerprints by key, searchable by another fingerprint. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slot_of: dict[str, int] = {}
        self._keys: list[str | None] = []
        self._values: list[UInt32Array | None] = []
        self._alive = np.zeros(0, dtype=np.bool_)
        self._main = _Postings.empty()
        self._delta = _Postings.empty()
        self._pending: list[tuple[UInt32Array, npt.NDArray[np.int32], npt.NDArray[np.uint16]]] = []
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def add(self, key: str, fp: Fingerprint) -> None:
        """Add (or replace) ``key``'s fingerprint."""
        with self._lock:
            self._discard(key)
            slot = len(self._keys)
            self._keys.append(key)
            self._values.append(fp.values)
            self._slot_of[key] = slot
            if slot >= len(self._alive):  # grown by doubling: adding one at a time stays cheap
                grown = np.zeros(max(1024, 2 * len(self._alive)), np.bool_)
                grown[: len(self._alive)] = self._alive
                self._alive = grown
            self._alive[slot] = True
            hashes, positions = _selected(fp.values[: _MAX_POSITION + 1])
            self._pending.append(
                (hashes, np.full(len(hashes), slot, np.int32), positions.astype(np.uint16))
            )

    def add_many(self, items: Iterable[tuple[str, Fingerprint]]) -> None:
        for key, fp in items:
            self.add(key, fp)
        self.compact()

    def discard(self, key: str) -> None:
        with self._lock:
            self._discard(key)

    def _discard(self, key: str) -> None:
        slot = self._slot_of.pop(key, None)
        if slot is not None:
            self._alive[slot] = False
            self._keys[slot] = None
            self._values[slot] = None
            self._dead += 1

    def compact(self) -> None:
        """Merge everything added into the main arrays (a batch rebuild)."""
        with self._lock:
            self._flush(force=True)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays: postings plus the stored fingerprints."""
        with self._lock:
            self._flush()
            stored = sum(v.nbytes for v in self._values if v is not None)
            return self._main.nbytes + self._delta.nbytes + stored

    def _flush(self, *, force: bool = False) -> None:
        if self._pending:
            hashes, slots, positions = (
                np.concatenate(parts) for parts in zip(*self._pending, strict=True)
            )
            self._pending.clear()
            self._delta = self._delta.merged(_Postings(hashes, slots, positions), self._alive)
        if (
            force
            or len(self._delta) > _MERGE_SHARE * max(len(self._main), 1)
            or self._dead > len(self._slot_of)
        ):
            self._main = self._main.merged(self._delta, self._alive)
            self._delta = _Postings.empty()
            self._dead = 0

    def search(
        self, fp: Fingerprint, *, min_score: int, exclude: Collection[str] = (), limit: int = 10
    ) -> list[Match]:
        """The keys ``fp`` matches with a score of at least ``min_score``, best first."""
        with self._lock:
            self._flush()
            candidates = self._candidates(fp.values, set(exclude))
            matches = []
            for slot, offsets in candidates:
                values = self._values[slot]
                key = self._keys[slot]
                if values is None or key is None:
                    continue
                match = _compare(key, fp.values, values, offsets)
                if match is not None and match.score >= min_score:
                    matches.append(match)
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches[:limit]

    def _candidates(self, query: UInt32Array, exclude: set[str]) -> list[tuple[int, list[int]]]:
        hashes, positions = _selected(query)
        hits = [part.lookup(hashes, positions) for part in (self._main, self._delta) if len(part)]
        if not hits:
            return []
        slots = np.concatenate([h[0] for h in hits])
        diffs = np.concatenate([h[1] - h[2] for h in hits])
        alive = self._alive[slots]
        slots, diffs = slots[alive], diffs[alive]
        # One vote per (slot, offset difference); the shift keeps both in one int64.
        pairs, votes = np.unique((slots << 20) + (diffs + (1 << 19)), return_counts=True)
        strong = votes >= _MIN_VOTES
        pairs, votes = pairs[strong], votes[strong]
        order = np.argsort(-votes, kind="stable")
        chosen: dict[int, list[int]] = {}
        for pair in pairs[order]:
            slot, diff = int(pair >> 20), int(pair & ((1 << 20) - 1)) - (1 << 19)
            offsets = chosen.get(slot)
            if offsets is None:
                key = self._keys[slot]
                if len(chosen) >= _CANDIDATES or key is None or key in exclude:
                    continue
                chosen[slot] = [diff]
            elif len(offsets) < _OFFSETS_PER_WORK and all(abs(diff - o) > 2 for o in offsets):
                offsets.append(diff)
        return list(chosen.items())


def _compare(
    key: str, query: UInt32Array, reference: UInt32Array, offsets: list[int]
) -> Match | None:
    """Align ``query`` with ``reference`` at each offset; the low-error stretches."""
    segments: list[tuple[float, int, int, int, float]] = []  # weight, start, end, shift, errors
    for offset in offsets:
        aligned = _best_shift(query, reference, offset)
        if aligned is None:
            continue
        shift, rate = aligned
        first = max(0, -shift)
        smooth = np.convolve(rate, np.ones(_WINDOW) / _WINDOW, mode="same")
        for start, end in _runs(smooth < _SEGMENT_BER):
            if end - start >= _MIN_SEGMENT:
                errors = float(rate[start:end].sum())
                weight = (end - start) * 0.5 - errors  # long and clean first
                segments.append((weight, first + start, first + end, shift, errors))
    # Music repeats itself (a loop, a chorus), so one stretch can agree with the work at
    # several offsets: the one that agrees longest and cleanest wins, the others give way.
    segments.sort(reverse=True)
    matched = np.zeros(len(query), dtype=np.bool_)
    errors_sum = 0.0
    ranges: list[MatchRange] = []
    for _, start, end, shift, errors in segments:
        if matched[start:end].any():
            continue
        matched[start:end] = True
        errors_sum += errors
        ranges.append(
            MatchRange(
                start=_seconds(start),
                end=_seconds(end),
                matched_start=_seconds(start + shift),
                matched_end=_seconds(end + shift),
            )
        )
    count = int(matched.sum())
    if not count:
        return None
    ber = errors_sum / count
    quality = min(1.0, max(0.0, (_SEGMENT_BER - ber) / (_SEGMENT_BER - _CLEAN_BER)))
    evidence = min(1.0, count * ITEM_SECONDS / _FULL_EVIDENCE_SECONDS)
    # Share of what could have matched: silence on either side could not.
    informative = min(int((~_repeated(query)).sum()), int((~_repeated(reference)).sum()))
    coverage = count / max(1, informative)
    score = round(100 * quality * (0.5 * evidence + 0.5 * min(1.0, coverage)))
    return Match(key, score, tuple(sorted(ranges, key=lambda r: r.start)))


def _best_shift(
    query: UInt32Array, reference: UInt32Array, offset: int
) -> tuple[int, npt.NDArray[np.float64]] | None:
    """Of ``offset`` and its neighbours (a copy rarely lands on the same frame grid), the
    shift with the fewest bit errors, and the error rate of each aligned query item."""
    best: tuple[float, int, npt.NDArray[np.float64]] | None = None
    for shift in (offset - 1, offset, offset + 1):
        first, last = max(0, -shift), min(len(query), len(reference) - shift)
        if last - first < _MIN_SEGMENT:
            continue
        bits = np.bitwise_count(query[first:last] ^ reference[first + shift : last + shift])
        rate = bits.astype(np.float64) / 32.0
        rate[_repeated(query)[first:last]] = 0.5  # silence agrees with any silence
        mean = float(rate.mean())
        if best is None or mean < best[0]:
            best = (mean, shift, rate)
    return None if best is None else (best[1], best[2])


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _seconds(items: int) -> float:
    return round(max(0, items) * ITEM_SECONDS, 1)


class LocalMatcher:
    """The local engine: searches a ``FingerprintIndex`` in a worker thread."""

    name = "chromaprint"

    def __init__(self, index: FingerprintIndex) -> None:
        self.index = index

    async def find(
        self, fp: Fingerprint, *, exclude: Collection[str] = (), min_score: int
    ) -> list[Match]:
        return await asyncio.to_thread(
            self.index.search, fp, min_score=min_score, exclude=tuple(exclude)
        )
