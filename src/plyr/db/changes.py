"""Commits that change what listeners are shown, told to whoever keeps copies of it (the
signed-out page cache, `web/shared/page_cache`).

`watch(engine, signal)` (every `Runtime.open`, so the web process, a worker, ingest and the
CLI alike) looks at each statement on its way out (one string test for a SELECT): an
INSERT, UPDATE or DELETE of a table other than bookkeeping marks its connection, and when
that connection commits, this process's listeners (`listen`) are called and the `signal`
file in the data folder is touched, for the other processes on the machine
(`signal_version`). Both happen twice: in the commit event, before the database has
committed (a copy made earlier must not be kept), and when the connection goes back to
the pool, after it has (one made in between must not be kept either). A rollback drops
the mark.

Any table counts except the ones no public page reads (`QUIET_TABLES`: jobs, sessions,
plays as rows, queues…), and a statement that is not a plain read and not understood
counts too: a new table is noticed by default. One write is let through on purpose: a
counted play's `UPDATE tracks SET play_count=…` (with its `updated_at`), which would
otherwise drop every copy at every play; the counts shown may lag by a copy's few seconds,
as the home page's catalogue numbers and this week's top tracks already do.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

SIGNAL_NAME = "catalogue-changed"  # in the data folder; only its modification time matters

# Tables no public page (home, a track, an artist) reads.
QUIET_TABLES = frozenset(
    {
        "auth_sessions",
        "oauth_requests",
        "subsonic_passwords",
        "uploads",
        "jobs",
        "ingest_cursors",
        "rate_limit_hits",
        "backfill_repos",
        "exports",
        "plays",
        "play_windows",  # top tracks' rollup of the plays: kept apart, a few seconds
        "track_window_plays",
        "play_queues",
        "now_playing",
        "jams",  # who listens together: no public page shows it
        "jam_members",
        "labels",
        "reference_works",
        "track_fingerprints",
        "moderation_flags",
        "moderation_events",
        "alembic_version",
    }
)
# Statements that read or only manage the transaction.
_NOT_WRITES = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "SHOW")
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+\"?(\w+)\"?",
    re.IGNORECASE,
)
# A counted play: `play_count` and the `updated_at` every UPDATE of a track sets, no more.
_PLAY_COUNT = re.compile(
    r"\s*UPDATE\s+tracks\s+SET\s+play_count\s*=[^,]*(?:,\s*updated_at\s*=[^,]*)?\sWHERE\s",
    re.IGNORECASE,
)

_MARK = "plyr_shown_write"  # this transaction wrote something listeners are shown
_AFTER = "plyr_shown_committed"  # ...and committed: tell again once the connection is back

_listeners: weakref.WeakKeyDictionary[AsyncEngine, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)
_watched: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()


def changes_shown(statement: str) -> bool:
    """Whether a statement may change what a public page shows."""
    head = statement.lstrip()[:9].upper()
    if head.startswith(_NOT_WRITES):
        return False
    write = _WRITE.match(statement)
    if write is None:
        return True  # DDL, a CTE, something new: assume it matters
    if write.group(1).lower() in QUIET_TABLES:
        return False
    return _PLAY_COUNT.match(statement) is None


def signal_path(data_dir: Path) -> Path:
    return data_dir / SIGNAL_NAME


def signal_version(signal: Path) -> int:
    """What the signal file says (its modification time); 0 when there is none."""
    try:
        return os.stat(signal).st_mtime_ns
    except OSError:
        return 0


def _touch(signal: Path) -> None:
    now = time.time_ns()
    with contextlib.suppress(OSError):  # a folder that cannot be written: this process only
        try:
            os.utime(signal, ns=(now, now))
        except FileNotFoundError:
            signal.touch()
            os.utime(signal, ns=(now, now))


def listen(engine: AsyncEngine, changed: Callable[[], None]) -> None:
    """Call `changed()` around every commit on `engine` that changed what pages show."""
    _listeners.setdefault(engine, []).append(changed)


def watch(engine: AsyncEngine, signal: Path | None) -> None:
    """Watch `engine`'s commits (once per engine); `signal` tells other processes."""
    if engine in _watched:
        return
    _watched.add(engine)
    sync = engine.sync_engine
    ref = weakref.ref(engine)

    def tell() -> None:
        found = ref()
        for changed in _listeners.get(found, ()) if found is not None else ():
            changed()
        if signal is not None:
            _touch(signal)

    def before_cursor_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("SELECT") and changes_shown(statement):
            conn.info[_MARK] = True

    def commit(conn: Any) -> None:
        if conn.info.pop(_MARK, False):
            tell()
            conn.info[_AFTER] = True

    def rollback(conn: Any) -> None:
        conn.info.pop(_MARK, None)

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_AFTER, False):
            tell()

    event.listen(sync, "before_cursor_execute", before_cursor_execute)
    event.listen(sync, "commit", commit)
    event.listen(sync, "rollback", rollback)
    event.listen(sync.pool, "checkin", checkin)
