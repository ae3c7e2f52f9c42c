"""Tag effects: the seed's `bufo` easter egg without an outside service. The page of a track
carrying one of the operator's trigger tags (`PLYR_TAG_EFFECTS_TAGS`, `bufo` unless set)
shows a few images from the operator's folder (`PLYR_TAG_EFFECTS_DIR`) drifting across it.
Off while no folder is set.

- **Which images.** The folder's own files only (not its subfolders, nothing hidden, no
  link leading out of it) named `.gif`, `.png`, `.webp`, `.jpg` or `.jpeg` whose content
  sniffs as one of those (served as what it sniffs as), up to `MAX_IMAGE_BYTES`.
  `PLYR_TAG_EFFECTS_EXCLUDE` drops names matching one of its globs unless one of
  `PLYR_TAG_EFFECTS_INCLUDE`'s matches too (the real plyr.fm's rule: include overrides
  exclude), case-insensitive, against the name with and without its extension.
- **Matched to the title.** An image scores 2 per word of the track's title its name
  holds, 1 per word sharing a 4-letter start ("dance" ~ "dancing"); the trigger tags'
  own words ("bufo" is in every bufo's name) and a few little words count for nothing.
  The best `PLYR_TAG_EFFECTS_COUNT` are shown, ties and the rest broken by a hash of the
  track id and the name: random-looking, the same on every view (and every process).
- **A folder that cannot be used** (missing, not a folder, unreadable, no usable image)
  turns the effect off with one logged warning saying why, rather than stopping plyr: a
  decoration must not keep the music from being served. The folder is read again when its
  modification time changes (files added, removed or renamed).
- **Bytes.** `image_named` is the only way to a file: a name is looked up among the
  folder's listing, never joined to a path, so `../` cannot reach anything. The content
  type is the sniffed one, checked again on every read.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

import anyio.to_thread

from plyr.config import Settings
from plyr.errors import ServiceError
from plyr.media.errors import MediaError
from plyr.media.sniff import sniff_image
from plyr.media.still import first_frame_png

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES: Final = 8 * 1024 * 1024
SUFFIXES: Final = frozenset({".gif", ".png", ".webp", ".jpg", ".jpeg"})
SERVED_MIMES: Final = frozenset({"image/gif", "image/png", "image/webp", "image/jpeg"})
# Formats that may move: their reduced-motion stand-in is the first frame (APNG is a PNG).
MOVING_MIMES: Final = frozenset({"image/gif", "image/png", "image/webp"})
LITTLE_WORDS: Final = frozenset(
    "an and at by for from in is it me my of on or our the to we with you your".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")  # letters and digits; `_`, `-`, spaces, dots split words
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True)
class EffectImage:
    name: str  # the file's name: the last part of its URL
    path: Path
    mime: str
    size: int
    mtime_ns: int
    words: frozenset[str]

    @property
    def moves(self) -> bool:
        return self.mime in MOVING_MIMES

    @property
    def etag(self) -> str:
        return f'"{self.mtime_ns:x}-{self.size:x}"'


@dataclass(frozen=True)
class Catalogue:
    """The usable images of the folder by name, or why there are none."""

    images: dict[str, EffectImage] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True)
class Sprite:
    """One drifting image: where and how it moves, drawn from the track id."""

    image: EffectImage
    size: int  # css px
    top: float  # % of the viewport's height
    duration: float  # seconds to cross
    delay: float  # negative: already on its way when the page shows
    direction: str  # "left" | "right"
    wobble: bool
    again: bool  # an image shown by an earlier sprite too (left out of the still row)


@dataclass(frozen=True)
class TagEffect:
    tag: str
    sprites: list[Sprite]


def words(text: str) -> frozenset[str]:
    """The words of a title or a file name, lowercase, without the little ones."""
    found = (word.lower() for word in _WORD.findall(_CAMEL.sub(" ", text)))
    return frozenset(word for word in found if len(word) > 1 and word not in LITTLE_WORDS)


def name_allowed(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Not excluded, or excluded and included back (globs, case-insensitive, against the
    name with and without its extension)."""
    forms = {name.lower(), Path(name).stem.lower()}

    def matches(patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(form, p.lower()) for p in patterns for form in forms)

    return not matches(exclude) or matches(include)


def score(image_words: frozenset[str], title_words: frozenset[str]) -> int:
    total = 0
    for word in title_words:
        if word in image_words:
            total += 2
        elif len(word) >= 4 and any(
            len(other) >= 4 and other[:4] == word[:4] for other in image_words
        ):
            total += 1
    return total


def _stable(track_id: int, name: str) -> int:
    digest = hashlib.blake2b(f"{track_id}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def choose(
    images: Iterable[EffectImage],
    title: str,
    track_id: int,
    count: int,
    ignore: frozenset[str] = frozenset(),
) -> list[EffectImage]:
    """The `count` images that share most words with the title; ties and the unmatched rest
    in an order fixed by the track id."""
    wanted = words(title) - ignore
    ranked = sorted(
        images, key=lambda im: (-score(im.words - ignore, wanted), _stable(track_id, im.name))
    )
    return ranked[:count]


def plan(track_id: int, chosen: Sequence[EffectImage], count: int) -> list[Sprite]:
    """`count` sprites over the chosen images (repeating them when there are fewer), their
    sizes, heights, speeds and directions drawn from the track id: the same every view."""
    if not chosen:
        return []
    rng = random.Random(f"plyr-tag-effects:{track_id}")  # noqa: S311 - decoration, not security
    sprites: list[Sprite] = []
    for index in range(count):
        duration = round(rng.uniform(11.0, 19.0), 2)
        sprites.append(
            Sprite(
                image=chosen[index % len(chosen)],
                size=rng.randint(56, 120),
                top=round(8 + 72 * (index + rng.random()) / count, 1),  # spread down the page
                duration=duration,
                delay=-round(rng.uniform(0, duration), 2),
                direction="left" if index % 2 else "right",
                wobble=rng.random() < 0.5,
                again=index >= len(chosen),
            )
        )
    return sprites


def read_folder(folder: Path, include: Sequence[str], exclude: Sequence[str]) -> Catalogue:
    """List the folder's usable images (blocking: run it in a thread)."""
    try:
        root = folder.resolve(strict=True)
        if not root.is_dir():
            return Catalogue(problem=f"{folder} is not a folder")
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as exc:
        return Catalogue(problem=f"cannot read {folder} ({exc.strerror or exc})")
    images: dict[str, EffectImage] = {}
    for entry in entries:
        image = _image_of(root, entry, include, exclude)
        if image is not None:
            images[image.name] = image
    if not images:
        return Catalogue(problem=f"{folder} holds no gif, png, webp or jpeg image to show")
    return Catalogue(images=images)


def _image_of(
    root: Path, entry: os.DirEntry[str], include: Sequence[str], exclude: Sequence[str]
) -> EffectImage | None:
    name = entry.name
    if name.startswith(".") or Path(name).suffix.lower() not in SUFFIXES:
        return None
    if not name_allowed(name, include, exclude):
        return None
    try:
        path = Path(entry.path).resolve(strict=True)
        info = path.stat()
        # A link may point anywhere: only a regular file inside the folder itself is served.
        if path.parent != root or not path.is_file() or info.st_size > MAX_IMAGE_BYTES:
            return None
        mime = sniff_image(path).mime
    except (OSError, MediaError):
        return None
    if mime not in SERVED_MIMES:
        return None
    return EffectImage(name, path, mime, info.st_size, info.st_mtime_ns, words(Path(name).stem))


# One listing per folder and patterns, kept until the folder's mtime changes.
_listings: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[int, Catalogue]] = {}
_warned: dict[str, str] = {}
_lock = threading.Lock()


def _folder_mtime(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return -1


def _listing(settings: Settings) -> Catalogue | None:
    folder = settings.tag_effects_dir
    if folder is None or not settings.tag_effects_tags:
        return None
    include, exclude = tuple(settings.tag_effects_include), tuple(settings.tag_effects_exclude)
    key = (str(folder), include, exclude)
    mtime = _folder_mtime(folder)
    with _lock:
        kept = _listings.get(key)
    if kept is not None and kept[0] == mtime and mtime != -1:
        return kept[1]
    found = read_folder(folder, include, exclude)
    with _lock:
        _listings[key] = (mtime, found)
        if found.problem and _warned.get(str(folder)) != found.problem:
            _warned[str(folder)] = found.problem
            log.warning("tag effects are off: %s (PLYR_TAG_EFFECTS_DIR)", found.problem)
        elif not found.problem:
            _warned.pop(str(folder), None)
    return found


async def catalogue(settings: Settings) -> Catalogue | None:
    """The folder's images; None when no folder is set (the effect is off)."""
    if settings.tag_effects_dir is None:
        return None
    return await anyio.to_thread.run_sync(_listing, settings)


def trigger_tag(settings: Settings, tags: Sequence[str]) -> str | None:
    wanted = settings.tag_effects_tags
    return next((tag for tag in tags if tag in wanted), None)


async def effect_for(
    settings: Settings, track_id: int, title: str, tags: Sequence[str]
) -> TagEffect | None:
    """What the track page shows for this track: None unless the effect is on and the
    track carries a trigger tag."""
    tag = trigger_tag(settings, tags) if settings.tag_effects_dir is not None else None
    if tag is None:
        return None
    found = await catalogue(settings)
    if found is None or not found.images:
        return None
    ignore = frozenset(word for tag_ in settings.tag_effects_tags for word in words(tag_))
    count = settings.tag_effects_count
    chosen = choose(found.images.values(), title, track_id, count, ignore)
    return TagEffect(tag=tag, sprites=plan(track_id, chosen, count))


def _not_found() -> ServiceError:
    return ServiceError(404, "not_found", "there is nothing at this address")


async def image_named(settings: Settings, name: str) -> EffectImage:
    """The folder's image by its listed name; 404 when the effect is off or no such image."""
    found = await catalogue(settings)
    image = found.images.get(name) if found is not None else None
    if image is None:
        raise _not_found()
    return image


def _read(image: EffectImage) -> bytes:
    # Sniffed again: the file may have been replaced in place since the folder was read.
    if sniff_image(image.path).mime != image.mime:
        raise MediaError("changed")
    with open(image.path, "rb") as handle:
        data = handle.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise MediaError("too large")
    return data


async def image_bytes(image: EffectImage) -> bytes:
    try:
        return await anyio.to_thread.run_sync(_read, image)
    except (OSError, MediaError):
        raise _not_found() from None


@lru_cache(maxsize=128)
def _still(path: Path, mtime_ns: int, size: int) -> bytes:
    return first_frame_png(path)


async def still_png(image: EffectImage) -> bytes:
    """The image's first frame as PNG (kept in memory per file version)."""
    try:
        return await anyio.to_thread.run_sync(_still, image.path, image.mtime_ns, image.size)
    except (OSError, MediaError):
        raise _not_found() from None
