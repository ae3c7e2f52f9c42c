"""Handing memory that media work freed back to the operating system.

Decoding, transcoding and measuring loudness run in threads of the serving process (PyAV
and numpy release the GIL). glibc keeps what those threads free in its per-thread arenas
instead of returning it, so the process's resident memory ratchets up with every upload
and never comes down: measured by bench/load.py, a `plyr serve` grew 241 → 323 MB over
10 minutes with 20 uploads and stayed flat without them. `malloc_trim(0)` returns the
free pages of every arena; elsewhere than glibc it is not there and nothing happens.

That trim alone left the combined load growing (+23 % in 10 minutes); glibc also opens up
to 8 arenas per core as threads come and go, each keeping its own high-water mark. With
at most 2 arenas the same 10-minute run stayed flat (+4 %): the long-running roles call
`limit_arenas()` at start (an operator's MALLOC_ARENA_MAX wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable

M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None)  # musl, macOS: none
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (before its threads start); False where
    that is not possible or the operator set MALLOC_ARENA_MAX."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
