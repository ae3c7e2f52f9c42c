"""Handing memory that media work freed back to the operating system.

Decoding, transcoding and measuring loudness run in threads of the serving process (PyAV
and numpy release the GIL). glibc keeps what those threads free in its per-thread arenas
instead of returning it, so the process's resident memory ratchets up with every upload
and never comes down: measured by bench/load.py, a `plyr serve` grew 241 → 323 MB over
10 minutes with 20 uploads and stayed flat without them. `malloc_trim(0)` returns the
free pages of every arena; elsewhere than glibc it is not there and nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # musl, macOS: no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
