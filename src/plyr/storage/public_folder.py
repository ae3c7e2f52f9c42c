"""The public folder: symbolic links to the stored files that anyone may fetch, so that
nginx (docs/nginx.conf, `try_files`) and plyr's own fast path (`plyr.serving.public`)
can serve them without asking the database.

Layout, under `PLYR_MEDIA_PUBLIC_DIR` (default `<data_dir>/public-media`):

- `media/<key>` → the stored file of `<key>` (relative link), for every key of a public
  track (original, stream, artwork, thumbnail): what `/media/<key>` serves;
- `audio/<track id>` → `../media/<stream key>`: what `/audio/<track id>` serves. It goes
  through the `media/` link, so removing a key's link also cuts every track link to it.

A link present means "public"; an absent or dangling one means "ask plyr", which checks as
it always has. So a link may be missing (a slower answer) but must never outlive the
track's being public: `public_sync` removes links right after a commit that makes a
track private, and adds them only after reading the database again (see its docstring).

Links are made under a temporary name and renamed into place (atomic); everything here is
a few syscalls on local metadata, cheap enough for the event loop.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from plyr.storage.base import validate_key

MEDIA = "media"
AUDIO = "audio"
_MEDIA_PREFIX = f"../{MEDIA}/"


class PublicFolder:
    def __init__(self, root: Path, storage_root: Path) -> None:
        self.root = root.resolve()
        self.storage_root = storage_root.resolve()
        # Plain strings for the fast paths: a pathlib join costs more than the stat.
        self._media = f"{self.root}/{MEDIA}/"
        self._audio = f"{self.root}/{AUDIO}/"

    # --- reading (the fast paths) ---------------------------------------------------------

    def media_link(self, key: str) -> Path:
        return self.root / MEDIA / validate_key(key)

    def audio_link(self, track_id: int) -> Path:
        return self.root / AUDIO / str(track_id)

    def is_public(self, key: str) -> bool:
        """Whether `key` has a link whose file exists."""
        try:
            validate_key(key)
        except ValueError:
            return False
        return os.path.exists(self._media + key)

    def track_stream(self, track_id: int) -> str | None:
        """The stream key of a public track, or None (not public, or its link dangles)."""
        link = f"{self._audio}{track_id}"
        try:
            target = os.readlink(link)
        except OSError:
            return None
        if not target.startswith(_MEDIA_PREFIX) or not os.path.exists(link):
            return None
        return target.removeprefix(_MEDIA_PREFIX)

    # --- writing (public_sync) ------------------------------------------------------------

    def link_track(self, track_id: int, keys: Iterable[str], stream_key: str | None) -> None:
        """Link a public track's keys (those whose file exists), then its audio."""
        linked = {key for key in keys if key and self._link_media(key)}
        if stream_key and stream_key in linked:
            _replace_link(self.audio_link(track_id), _MEDIA_PREFIX + stream_key)

    def unlink_track(self, track_id: int) -> None:
        _remove(self.audio_link(track_id))

    def unlink_keys(self, keys: Iterable[str]) -> None:
        """Remove the links of `keys`, whoever else holds them: a key shared with a public
        track is served by plyr (which checks) until it is linked again."""
        for key in keys:
            with contextlib.suppress(ValueError):
                _remove(self.media_link(key))

    def _link_media(self, key: str) -> bool:
        try:
            link = self.media_link(key)
        except ValueError:
            return False
        target = self.storage_root / key
        if not target.is_file():
            return False
        _replace_link(link, os.path.relpath(target, link.parent))
        return True

    # --- the whole folder (rebuild) -------------------------------------------------------

    def linked_tracks(self) -> Iterator[int]:
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root / AUDIO) as found:
            for entry in found:
                if entry.name.isdigit():
                    yield int(entry.name)

    def linked_keys(self) -> Iterator[str]:
        top = self.root / MEDIA
        for folder, _dirs, files in os.walk(top):
            relative = os.path.relpath(folder, top)
            for name in files:
                if not name.startswith(".tmp-"):
                    yield name if relative == "." else f"{relative}/{name}"


def _replace_link(link: Path, target: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if os.readlink(link) == target:
            return
    temporary = link.with_name(f".tmp-{secrets.token_hex(6)}")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.unlink(path)
