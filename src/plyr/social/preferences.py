"""What a signed-in user chose (theme, accent, player, privacy, hidden tags), kept on the
server so every device agrees. Signed-out visitors keep theirs in the browser.

The player's `transition` is how one track goes to the next: `off` (the next starts once
one has ended), `gapless` (it follows with no gap) or `crossfade` over `crossfade_seconds`
(`static/js/player/transition.js` does it)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from plyr.db.models import Preferences, utcnow
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social.tags import normalise_tags

Theme = Literal["system", "light", "dark"]
THEMES: tuple[str, ...] = ("system", "light", "dark")
ACCENT = re.compile(r"^#[0-9a-f]{6}$")
BOOLEANS = (
    "auto_advance",
    "loudness_levelling",
    "allow_comments",
    "show_liked",
    "show_sensitive",
    "show_warned_tracks",
)
TRANSITIONS: tuple[str, ...] = ("off", "gapless", "crossfade")
CROSSFADE_SECONDS = range(1, 13)
FIELDS = ("theme", "accent", *BOOLEANS, "hidden_tags", "transition", "crossfade_seconds")
DEFAULT_HIDDEN_TAGS = ("ai",)


@dataclass(frozen=True, slots=True)
class PreferencesView:
    """A user's preferences; the defaults when they never saved any."""

    theme: str = "system"
    accent: str | None = None
    auto_advance: bool = True
    loudness_levelling: bool = True
    allow_comments: bool = True
    show_liked: bool = False
    show_sensitive: bool = False
    # Tracks their artists labelled `sexual` or `porn` (`plyr.tracks.labels`) in the home
    # feed and in search; elsewhere (artist pages, lists, links) they always show.
    show_warned_tracks: bool = False
    hidden_tags: list[str] = field(default_factory=lambda: list(DEFAULT_HIDDEN_TAGS))
    transition: str = "off"
    crossfade_seconds: int = 6

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULTS = PreferencesView()


def preferences_view(row: Preferences | None) -> PreferencesView:
    if row is None:
        return PreferencesView()
    return PreferencesView(
        theme=row.theme if row.theme in THEMES else "system",
        accent=row.accent,
        auto_advance=bool(row.auto_advance),
        loudness_levelling=bool(row.loudness_levelling),
        allow_comments=bool(row.allow_comments),
        show_liked=bool(row.show_liked),
        show_sensitive=bool(row.show_sensitive),
        show_warned_tracks=bool(row.show_warned_tracks),
        hidden_tags=list(row.hidden_tags or []),
        transition=row.transition if row.transition in TRANSITIONS else "off",
        crossfade_seconds=(
            row.crossfade_seconds if row.crossfade_seconds in CROSSFADE_SECONDS else 6
        ),
    )


async def get_preferences(runtime: Runtime, did: str) -> PreferencesView:
    async with runtime.sessions() as db:
        return preferences_view(await db.get(Preferences, did))


def _invalid(name: str, message: str) -> ServiceError:
    return ServiceError(422, "invalid_input", message, [{"field": name, "message": message}])


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Check every field first: a bad value changes nothing."""
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in FIELDS:
            raise _invalid(name, f"there is no preference called “{name}”")
        if name == "theme":
            if value not in THEMES:
                raise _invalid(name, "the theme is one of system, light or dark")
            cleaned[name] = value
        elif name == "accent":
            if value is None or value == "":
                cleaned[name] = None
                continue
            if not isinstance(value, str) or not ACCENT.match(value.strip().lower()):
                raise _invalid(name, "the accent colour is written #rrggbb")
            cleaned[name] = value.strip().lower()
        elif name == "transition":
            if value not in TRANSITIONS:
                raise _invalid(name, "the transition is one of off, gapless or crossfade")
            cleaned[name] = value
        elif name == "crossfade_seconds":
            whole = isinstance(value, int) and not isinstance(value, bool)
            if not whole or value not in CROSSFADE_SECONDS:
                raise _invalid(name, "a crossfade lasts 1 to 12 seconds")
            cleaned[name] = value
        elif name in BOOLEANS:
            if not isinstance(value, bool):
                raise _invalid(name, f"{name.replace('_', ' ')} is true or false")
            cleaned[name] = value
        else:  # hidden_tags
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
                raise _invalid(name, "hidden tags are a list of tags")
            try:
                cleaned[name] = normalise_tags(value)
            except ServiceError as exc:
                raise _invalid(name, exc.message) from None
    return cleaned


async def update_preferences(
    runtime: Runtime, did: str, changes: dict[str, Any]
) -> PreferencesView:
    """Apply the given fields (the others stay as they are) and return the result."""
    cleaned = clean_changes(changes)
    try:
        return await _apply(runtime, did, cleaned)
    except IntegrityError:  # two first saves at once: the other created the row
        return await _apply(runtime, did, cleaned)


async def _apply(runtime: Runtime, did: str, cleaned: dict[str, Any]) -> PreferencesView:
    async with runtime.sessions() as db:
        row = await db.get(Preferences, did)
        if row is None:
            defaults = PreferencesView().as_dict()
            row = Preferences(did=did, **defaults)
            db.add(row)
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await db.commit()
        return preferences_view(row)
