"""Run the media layer's CPU-heavy functions in worker processes from async code.

    from plyr.media import pool, probe_audio, transcode
    pool.configure(max_workers=2)                      # optional; defaults to the CPUs
    info = await pool.run_cpu(probe_audio, path)
    out = await pool.run_cpu_with_progress(transcode, path, out_dir, "mp3",
                                           progress=lambda f: print(f"{f:.0%}"))
    pool.shutdown()                                    # at application shutdown

Workers start from a forkserver (spawn where there is none), never by forking the
application, which holds threads and sockets. The pool is created on first use. If a
worker dies (a decoder crash on a hostile file), that call raises ``BrokenProcessPool``
and the next call gets a fresh pool instead of failing forever.

Progress crosses the process boundary through one queue per pool, handed to workers at
start; a thread in this process hands each report to the event loop that asked for it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import multiprocessing
import os
import queue as queue_module
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Imported once in the forkserver so each worker starts with PyAV, numpy and Pillow loaded.
_PRELOAD = [
    "plyr.media.sniff",
    "plyr.media.probe",
    "plyr.media.transcode",
    "plyr.media.loudness",
    "plyr.media.artwork",
]

# In a worker: where progress reports go (set by the pool's initializer).
_worker_progress: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _worker_progress
    _worker_progress = progress_queue


@dataclass(frozen=True)
class ProgressReporter:
    """A picklable stand-in for a progress callback, called inside a worker."""

    token: int

    def __call__(self, fraction: float) -> None:
        if _worker_progress is not None:
            _worker_progress.put((self.token, float(fraction)))


def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class MediaPool:
    """A lazily started process pool for media work."""

    def __init__(self, max_workers: int | None = None, *, max_tasks_per_child: int = 100):
        self.max_workers = max_workers or os.cpu_count() or 1
        # Recycling workers now and then returns memory ffmpeg and Pillow fragmented.
        self.max_tasks_per_child = max_tasks_per_child
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._progress_queue: Any = None
        self._pump: threading.Thread | None = None
        self._listeners: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[float], None]]]
        self._listeners = {}
        self._tokens = itertools.count(1)

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = _context()
                if self._progress_queue is None:
                    self._progress_queue = context.Queue()
                    self._pump = threading.Thread(
                        target=self._dispatch_progress, name="media-progress", daemon=True
                    )
                    self._pump.start()
                self._executor = ProcessPoolExecutor(
                    max_workers=self.max_workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(self._progress_queue,),
                    max_tasks_per_child=self.max_tasks_per_child,
                )
            return self._executor

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``func(*args, **kwargs)`` in a worker; arguments and result must pickle."""
        executor = self.executor()
        call = functools.partial(func, *args, **kwargs)
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, call)
        except BrokenProcessPool:
            self._discard(executor)
            raise

    async def run_with_progress(
        self,
        func: Callable[..., R],
        *args: Any,
        progress: Callable[[float], None],
        **kwargs: Any,
    ) -> R:
        """Like ``run`` for functions taking a ``progress`` callback (``transcode``).

        ``progress`` is called on this event loop's thread.
        """
        self.executor()  # starts the progress thread
        token = next(self._tokens)
        self._listeners[token] = (asyncio.get_running_loop(), progress)
        try:
            return await self.run(func, *args, progress=ProgressReporter(token), **kwargs)
        finally:
            self._listeners.pop(token, None)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            progress_queue, self._progress_queue = self._progress_queue, None
            pump, self._pump = self._pump, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)
        if progress_queue is not None:
            progress_queue.put(None)
            if pump is not None and wait:
                pump.join(timeout=5)
            progress_queue.close()

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def _dispatch_progress(self) -> None:
        progress_queue = self._progress_queue
        while True:
            try:
                message = progress_queue.get()
            except (EOFError, OSError, queue_module.Empty):
                return
            if message is None:
                return
            token, fraction = message
            listener = self._listeners.get(token)
            if listener is None:
                continue
            loop, callback = listener
            try:
                loop.call_soon_threadsafe(callback, fraction)
            except RuntimeError:  # the loop has closed
                self._listeners.pop(token, None)


_default: MediaPool | None = None
_default_lock = threading.Lock()


def configure(max_workers: int | None = None, *, max_tasks_per_child: int = 100) -> MediaPool:
    """Set up the shared pool (replacing an existing one). Workers start on first use."""
    global _default
    with _default_lock:
        old, _default = _default, MediaPool(max_workers, max_tasks_per_child=max_tasks_per_child)
    if old is not None:
        old.shutdown(wait=False)
    return _default


def default_pool() -> MediaPool:
    global _default
    with _default_lock:
        if _default is None:
            _default = MediaPool()
        return _default


async def run_cpu(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``func(*args, **kwargs)`` in the shared pool's worker processes."""
    return await default_pool().run(func, *args, **kwargs)


async def run_cpu_with_progress(
    func: Callable[..., R], *args: Any, progress: Callable[[float], None], **kwargs: Any
) -> R:
    """``run_cpu`` for a function with a ``progress`` callback; reports arrive on the loop."""
    return await default_pool().run_with_progress(func, *args, progress=progress, **kwargs)


def shutdown(wait: bool = True) -> None:
    """Stop the shared pool's workers (a later call starts a new pool)."""
    global _default
    with _default_lock:
        pool, _default = _default, None
    if pool is not None:
        pool.shutdown(wait=wait)
