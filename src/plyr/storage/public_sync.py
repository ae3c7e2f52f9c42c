"""The public folder (`public_folder`) kept in step with the database, from one place:
the ORM's own events, whatever domain code made the change (publish, edit, takedown and
restore, hiding an account, deleting a track or an account, a track from the network).

A track is public when it is published and listed (`plyr.db.visibility.track_listed`:
its audio ready, not taken down, its account not hidden); its keys (original, stream,
artwork, thumbnail) and its audio get links. What makes or unmakes that is a change of
those columns, or of `Artist.hidden_at`, seen as:

- ORM objects flushed (`before_flush` / `after_flush`): the old and new keys of a changed
  track, a deleted track's keys, every track of an artist hidden, shown or deleted;
- bulk UPDATE / DELETE statements on tracks or artists (`do_orm_execute`): the rows they
  will touch are read first, with the statement's own WHERE.

After the commit, before `commit()` returns, the touched tracks' links are removed (nginx
stops serving them at once), then `reconcile` reads the database again and links those
still public. Because a link is only kept after a read made *after* it
was created, a takedown committed meanwhile by another process is never undone: either
that read sees it, or the takedown's own removal comes after the link. A process killed
between a commit and its removal leaves a stale link until the next `rebuild` (every
`plyr serve` start, and `plyr media relink`).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Delete, Select, Update, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.util.concurrency import await_, in_greenlet

from plyr.config import Settings
from plyr.db.models import Artist, PublishState, Track
from plyr.db.visibility import track_listed
from plyr.storage.content_types import content_type_for_key
from plyr.storage.public_folder import PublicFolder

log = logging.getLogger(__name__)

KEY_COLUMNS = ("original_key", "stream_key", "image_key", "thumbnail_key")
TRACK_COLUMNS = frozenset(
    {
        *KEY_COLUMNS,
        "stream_content_type",
        "taken_down_at",
        "audio_state",
        "publish_state",
        "artist_did",
    }
)
ARTIST_COLUMNS = frozenset({"hidden_at"})
_INFO = "plyr_public_touched"
_BATCH = 500


def public_folder_for(settings: Settings) -> PublicFolder | None:
    """The folder the settings name; None with S3 storage or links turned off."""
    if settings.storage_backend != "local" or not settings.media_public_links:
        return None
    return PublicFolder(settings.effective_media_public_dir, settings.effective_storage_local_dir)


def _rows(ids: Sequence[int] | None) -> Select[Any]:
    """The public tracks (of `ids`, or all), with what their links need."""
    query = select(
        Track.id, *(getattr(Track, c) for c in KEY_COLUMNS), Track.stream_content_type
    ).where(Track.publish_state == PublishState.published, track_listed())
    return query if ids is None else query.where(Track.id.in_(ids))


def _link(folder: PublicFolder, row: Any) -> None:
    keys = [getattr(row, c) for c in KEY_COLUMNS]
    stream = row.stream_key or row.original_key
    # /audio/{id} from the link answers with the type of the key's extension: only when
    # that is what the track says (else plyr answers from the database, as before).
    same_type = stream and content_type_for_key(stream) == (
        row.stream_content_type or content_type_for_key(stream)
    )
    folder.link_track(row.id, keys, stream if same_type else None)


@dataclass
class PublicSync:
    folder: PublicFolder
    sessions: async_sessionmaker[AsyncSession]

    async def _public(self, ids: Sequence[int]) -> list[Any]:
        found: list[Any] = []
        async with self.sessions() as db:
            for start in range(0, len(ids), _BATCH):
                found += (await db.execute(_rows(ids[start : start + _BATCH]))).all()
        return found

    async def reconcile(self, ids: Iterable[int]) -> None:
        """Link those of `ids` that are public, then drop any a second read says are not."""
        wanted = sorted(set(ids))
        linked = await self._public(wanted)
        for row in linked:
            _link(self.folder, row)
        if linked:
            self._drop_gone(linked, await self._public([row.id for row in linked]))

    def _drop_gone(self, linked: list[Any], still: list[Any]) -> None:
        """Unlink every key linked for a track the second read no longer finds public."""
        public = {row.id for row in still}
        for row in linked:
            if row.id not in public:
                self.folder.unlink_track(row.id)
                self.folder.unlink_keys(getattr(row, c) for c in KEY_COLUMNS if getattr(row, c))

    def committed(self, touched: Touched) -> None:
        """After a commit: unlink what it touched, then relink what is public, both before
        the committing `await session.commit()` returns (the relink's queries run through
        SQLAlchemy's greenlet bridge, as the async session's own do)."""
        for track_id in touched.ids:
            self.folder.unlink_track(track_id)
        self.folder.unlink_keys(touched.keys)
        if not in_greenlet():
            return  # a synchronous session: relinked by the next rebuild
        try:
            await_(self.reconcile(touched.ids))
        except Exception:  # the links stay off: plyr answers those itself
            log.exception("public media: relinking %d tracks failed", len(touched.ids))

    async def rebuild(self) -> tuple[int, int]:
        """The whole folder from the database: (tracks linked, links removed)."""
        async with self.sessions() as db:
            rows = (await db.execute(_rows(None))).all()
        public_ids = {row.id for row in rows}
        public_keys = {getattr(row, c) for row in rows for c in KEY_COLUMNS} - {None, ""}
        removed = 0
        for track_id in list(self.folder.linked_tracks()):
            if track_id not in public_ids:
                self.folder.unlink_track(track_id)
                removed += 1
        stale = [key for key in self.folder.linked_keys() if key not in public_keys]
        self.folder.unlink_keys(stale)
        for row in rows:
            _link(self.folder, row)
        # Anything made private while the links were made: see the module docstring.
        still = await self._public(sorted(public_ids))
        self._drop_gone(list(rows), still)
        return len(still), removed + len(stale)


@dataclass
class Touched:
    ids: set[int] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    new: list[Track] = field(default_factory=list)

    def add_rows(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.ids.add(row[0])
            self.keys.update(key for key in row[1:] if key)


_syncs: weakref.WeakKeyDictionary[Engine, PublicSync] = weakref.WeakKeyDictionary()


def watch(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Keep the settings' public folder in step with commits made through `engine`."""
    folder = public_folder_for(settings)
    if folder is None:
        return
    _syncs[engine.sync_engine] = PublicSync(folder, sessions)
    _listen_once()


def sync_for(engine: AsyncEngine) -> PublicSync | None:
    return _syncs.get(engine.sync_engine)


def _touched(session: Session) -> Touched | None:
    bind = session.bind
    engine = bind.engine if bind is not None else None
    if engine is None or engine not in _syncs:
        return None
    found: Touched | None = session.info.get(_INFO)
    if found is None:
        found = session.info[_INFO] = Touched()
    return found


def _track_keys_query() -> Select[Any]:
    return select(Track.id, *(getattr(Track, c) for c in KEY_COLUMNS))


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    touched = _touched(session)
    if touched is None:
        return
    artists: set[str] = set()
    for obj in session.dirty:
        if isinstance(obj, Track) and _changed(obj, TRACK_COLUMNS):
            touched.ids.add(obj.id)
            for column in KEY_COLUMNS:
                history = get_history(obj, column)
                touched.keys.update(k for k in (*history.added, *history.deleted) if k)
                touched.keys.update(k for k in history.unchanged if k)
        elif isinstance(obj, Artist) and _changed(obj, ARTIST_COLUMNS):
            artists.add(obj.did)
    for obj in session.deleted:
        if isinstance(obj, Track):
            touched.ids.add(obj.id)
            touched.keys.update(k for k in (getattr(obj, c) for c in KEY_COLUMNS) if k)
        elif isinstance(obj, Artist):
            artists.add(obj.did)
    touched.new.extend(obj for obj in session.new if isinstance(obj, Track))
    if artists:
        with session.no_autoflush:
            query = _track_keys_query().where(Track.artist_did.in_(artists))
            touched.add_rows(session.execute(query).all())


def _changed(obj: Any, columns: frozenset[str]) -> bool:
    return any(get_history(obj, column).has_changes() for column in columns)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    touched = session.info.get(_INFO)
    if touched is not None and touched.new:
        touched.ids.update(obj.id for obj in touched.new if obj.id is not None)
        touched.new.clear()


def _do_orm_execute(state: ORMExecuteState) -> None:
    """A bulk UPDATE or DELETE of tracks or artists: read the rows it will touch first."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    entity = mapper.class_ if mapper is not None else None
    if entity not in (Track, Artist):
        return
    statement = state.statement
    if isinstance(statement, Update):
        values = {getattr(c, "key", str(c)) for c in getattr(statement, "_values", None) or ()}
        parameters = state.parameters  # an UPDATE by primary keys: a list of rows
        for row in parameters if isinstance(parameters, list) else [parameters or {}]:
            values.update(row)
        columns = TRACK_COLUMNS if entity is Track else ARTIST_COLUMNS
        if not values & columns:
            return
    elif not isinstance(statement, Delete):
        return
    touched = _touched(state.session)
    if touched is None:
        return
    where = statement.whereclause
    query = _track_keys_query()
    if entity is Artist:
        artists = select(Artist.did)
        query = query.where(
            Track.artist_did.in_(artists.where(where) if where is not None else artists)
        )
    elif where is not None:
        query = query.where(where)
    with state.session.no_autoflush:
        touched.add_rows(state.session.execute(query).all())


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint: what it flushed is told when the whole transaction commits
    touched: Touched | None = session.info.pop(_INFO, None)
    bind = session.bind
    sync = _syncs.get(bind.engine) if bind is not None else None
    if touched is None or sync is None or not (touched.ids or touched.keys):
        return
    sync.committed(touched)


def _after_rollback(session: Session) -> None:
    # A savepoint's rollback keeps what was seen: telling too much costs a relink only.
    if session.get_nested_transaction() is None:
        session.info.pop(_INFO, None)


_listening = False


def _listen_once() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)


async def rebuild(settings: Settings) -> tuple[int, int] | None:
    """`PublicSync.rebuild` on an engine of its own; None when there is no folder."""
    from plyr.db.engine import create_engine, create_sessionmaker

    folder = public_folder_for(settings)
    if folder is None:
        return None
    engine = create_engine(settings.effective_database_url)
    try:
        return await PublicSync(folder, create_sessionmaker(engine)).rebuild()
    finally:
        await engine.dispose()
