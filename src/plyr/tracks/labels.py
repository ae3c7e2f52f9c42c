"""Self-labels: the content warnings an artist puts on a track. They travel in the
record's `labels` field as `com.atproto.label.defs#selfLabels`
(`{"$type": …, "values": [{"val": "sexual"}]}`), the same shape the real plyr.fm and
Bluesky write, and are kept in `tracks.self_labels` as the list of values.

plyr offers the four global ATProto content-warning values. `!no-unauthenticated` (a
Bluesky account-level value: "don't show me to signed-out viewers") is not offered:
plyr would not honour it (a direct link plays for anyone), and a warning must not promise
what it does not do. A record from another client may carry other values; they are kept
as written (`values_from_record`), shown by their raw value when not system values
(`!…`), and an edit may keep them.

What the labels change, and what they do not:

- `sexual` and `porn` tracks stay out of the home feed and search unless the listener
  opted in or made the track (`hidden_from_feeds`); the artist page, lists, likes, the
  queue and a direct link still show and play them.
- every offered value blurs the artwork on the track page, with a control to show it,
  unless the viewer opted in or made the track (`blurs_artwork`).
- nothing is skipped by the player and nothing stops playback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plyr.db.models import Track
from plyr.errors import ServiceError

SELF_LABELS_TYPE = "com.atproto.label.defs#selfLabels"
# `com.atproto.label.defs#selfLabels`: at most 10 values of at most 128 characters.
MAX_VALUES = 10
MAX_VALUE = 128


@dataclass(frozen=True, slots=True)
class ContentWarning:
    value: str  # the label value in the record
    name: str  # what listeners read
    explanation: str  # what the artist reads on the form
    hides_from_feeds: bool


CONTENT_WARNINGS: tuple[ContentWarning, ...] = (
    ContentWarning(
        "sexual",
        "sexually suggestive",
        "suggestive lyrics, sounds or artwork, not explicit",
        hides_from_feeds=True,
    ),
    ContentWarning(
        "porn",
        "explicit sexual content",
        "explicit sexual lyrics, sounds or artwork",
        hides_from_feeds=True,
    ),
    ContentWarning(
        "nudity",
        "nudity",
        "non-sexual nudity, for instance in the artwork",
        hides_from_feeds=False,
    ),
    ContentWarning(
        "graphic-media",
        "graphic content",
        "violence, gore or other disturbing material",
        hides_from_feeds=False,
    ),
)
KNOWN: dict[str, ContentWarning] = {warning.value: warning for warning in CONTENT_WARNINGS}
FEED_HIDDEN = frozenset(w.value for w in CONTENT_WARNINGS if w.hides_from_feeds)


def _unknown(value: str) -> ServiceError:
    choices = ", ".join(KNOWN)
    message = f"“{value[:MAX_VALUE]}” is not a content warning plyr knows: use {choices}"
    return ServiceError(
        422, "invalid_input", message, [{"field": "self_labels", "message": message}]
    )


def _split(values: Iterable[str]) -> list[str]:
    """Repeated fields and comma-separated lists alike (forms send both)."""
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def checked(requested: Iterable[str], *, keep: Iterable[str] = ()) -> list[str]:
    """The values to store for what an artist asked for: known values only (any case),
    plus those in `keep` (what the track already carries, perhaps from another client, so
    an edit that sends back what it read is not refused). Known values come first in
    plyr's order, kept ones after in theirs; no repeats. Refuses anything else (422)."""
    kept = [value for value in dict.fromkeys(keep) if value not in KNOWN]
    chosen: set[str] = set()
    extra: list[str] = []
    for raw in _split(requested):
        value = raw.casefold()
        if value in KNOWN:
            chosen.add(value)
        elif raw in kept:
            if raw not in extra:
                extra.append(raw)
        else:
            raise _unknown(raw)
    values = [w.value for w in CONTENT_WARNINGS if w.value in chosen] + extra
    if len(values) > MAX_VALUES:
        raise ServiceError(422, "invalid_input", f"at most {MAX_VALUES} content warnings")
    return values


def record_labels(values: Iterable[str]) -> dict[str, Any] | None:
    """The record's `labels` object; None (the field left out) without values."""
    kept = list(dict.fromkeys(values))[:MAX_VALUES]
    if not kept:
        return None
    return {"$type": SELF_LABELS_TYPE, "values": [{"val": value} for value in kept]}


def values_from_record(labels: object) -> list[str]:
    """The values of a record's `labels` (for indexing records of any client): only a
    selfLabels object counts; values that are not non-empty strings of at most 128
    characters are skipped; no repeats, at most 10, in the record's order."""
    if not isinstance(labels, dict) or labels.get("$type", SELF_LABELS_TYPE) != SELF_LABELS_TYPE:
        return []
    entries = labels.get("values")
    if not isinstance(entries, list):
        return []
    values: list[str] = []
    for entry in entries:
        value = entry.get("val") if isinstance(entry, dict) else None
        if isinstance(value, str) and 0 < len(value) <= MAX_VALUE and value not in values:
            values.append(value)
    return values[:MAX_VALUES]


def names(values: Iterable[str] | None) -> list[str]:
    """What listeners read for a track's labels: plyr's names for the known values, the
    raw value for others; system values (`!…`) are not content warnings and are left out."""
    return [
        KNOWN[value].name if value in KNOWN else value
        for value in values or ()
        if not value.startswith("!")
    ]


def blurs_artwork(values: Iterable[str] | None) -> bool:
    """Whether the labels blur the artwork (for viewers who did not opt in)."""
    return any(value in KNOWN for value in values or ())


def hidden_from_feeds(
    values: Iterable[str] | None, artist_did: str, viewer_did: str | None, *, opted_in: bool
) -> bool:
    """Whether the home feed and search leave the track out for this viewer: it carries
    `sexual` or `porn`, the viewer did not opt in, and it is not their own track."""
    if opted_in or (viewer_did is not None and viewer_did == artist_did):
        return False
    return any(value in FEED_HIDDEN for value in values or ())


def in_feeds(tracks: Iterable[Track], viewer_did: str | None, *, opted_in: bool) -> list[Track]:
    """The tracks the home feed shows this viewer (see `hidden_from_feeds`)."""
    return [
        track
        for track in tracks
        if not hidden_from_feeds(track.self_labels, track.artist_did, viewer_did, opted_in=opted_in)
    ]
