"""TIDs ("timestamp identifiers"): the sortable record keys of atproto.

A TID is a 64-bit integer written as 13 characters of base32-sortable
(`234567abcdefghijklmnopqrstuvwxyz`, most significant first):

    0 | 53 bits: microseconds since the UNIX epoch | 10 bits: clock id

String order equals numeric order equals time order, so a repository's records list in
creation order. `TidClock` hands out strictly increasing TIDs for new records;
`tid_from_time` derives a TID from a known moment, which makes a record key idempotent
(the same play at the same time always gets the same key, so a retried write cannot
create a duplicate).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from plyr.atproto.syntax import TID_ALPHABET, ensure_tid

__all__ = [
    "MAX_CLOCK_ID",
    "TidClock",
    "int_to_tid",
    "next_tid",
    "parse_tid",
    "tid_from_time",
    "tid_to_int",
]

TID_LENGTH = 13
MAX_CLOCK_ID = (1 << 10) - 1
MAX_MICROS = (1 << 53) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_CHAR_VALUES = {c: i for i, c in enumerate(TID_ALPHABET)}


def int_to_tid(value: int) -> str:
    """The 13-character form of a 63-bit TID integer."""
    if not 0 <= value < 1 << 63:
        raise ValueError(f"a TID is a non-negative 63-bit integer, got {value}")
    chars = []
    for _ in range(TID_LENGTH):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_to_int(tid: str) -> int:
    value = 0
    for char in ensure_tid(tid):
        value = (value << 5) | _CHAR_VALUES[char]
    return value


def _compose(micros: int, clock_id: int) -> str:
    if not 0 <= clock_id <= MAX_CLOCK_ID:
        raise ValueError(f"clock id must be 0..{MAX_CLOCK_ID}, got {clock_id}")
    if not 0 <= micros <= MAX_MICROS:
        raise ValueError(f"timestamp {micros} µs is outside what a TID can hold (53 bits)")
    return int_to_tid((micros << 10) | clock_id)


def tid_from_time(moment: datetime, clock_id: int = 0) -> str:
    """The TID for `moment` (an aware datetime) and `clock_id`; the same inputs, the same TID.

    Precision is one microsecond; anything finer is dropped.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("tid_from_time needs an aware datetime (plyr time is UTC)")
    micros = (moment - _EPOCH) // _ONE_MICROSECOND
    return _compose(micros, clock_id)


def parse_tid(tid: str) -> tuple[datetime, int]:
    """(UTC time, clock id) of a TID. Raises InvalidSyntax for a malformed one."""
    value = tid_to_int(tid)
    return _EPOCH + timedelta(microseconds=value >> 10), value & MAX_CLOCK_ID


def _wall_clock_micros() -> int:
    return time.time_ns() // 1000


class TidClock:
    """Strictly increasing TIDs for one process, safe to share between threads.

    Each TID uses the current time unless that would not be greater than the previous
    one (two calls in the same microsecond, or the wall clock stepping back); then it
    uses the previous timestamp plus one microsecond. The clock id is random per clock so
    that two processes writing to one repository at the same instant rarely collide.
    """

    def __init__(
        self,
        clock_id: int | None = None,
        *,
        now_micros: Callable[[], int] = _wall_clock_micros,
    ) -> None:
        if clock_id is None:
            clock_id = secrets.randbelow(MAX_CLOCK_ID + 1)
        if not 0 <= clock_id <= MAX_CLOCK_ID:
            raise ValueError(f"clock id must be 0..{MAX_CLOCK_ID}, got {clock_id}")
        self._clock_id = clock_id
        self._now_micros = now_micros
        self._last_micros = -1
        self._lock = threading.Lock()

    @property
    def clock_id(self) -> int:
        return self._clock_id

    def next_tid(self) -> str:
        with self._lock:
            micros = max(self._now_micros(), self._last_micros + 1)
            self._last_micros = micros
        return _compose(micros, self._clock_id)

    def _reseed(self) -> None:
        self._clock_id = secrets.randbelow(MAX_CLOCK_ID + 1)
        self._lock = threading.Lock()


_default_clock = TidClock()
# A forked worker must not share the parent's clock id (nor a lock held at fork time).
os.register_at_fork(after_in_child=_default_clock._reseed)


def next_tid() -> str:
    """A fresh TID from the process-wide clock."""
    return _default_clock.next_tid()
