"""How many rows of each kind the catalogue gets: scale 1 is 100 000 tracks."""

from __future__ import annotations

FULL = {
    "artists": 10_000,
    "tracks": 100_000,
    "albums": 2_000,
    "playlists": 5_000,
    "plays": 1_000_000,
    "likes": 300_000,
    "tags": 300,
}


def sizes_for(scale: float) -> dict[str, int]:
    found = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    found["artists"] = max(found["artists"], 20)
    found["tracks"] = max(found["tracks"], 100)
    found["tags"] = max(found["tags"], 30)
    # Likes are unique per (listener, track): never ask for more pairs than are likely free.
    found["likes"] = min(found["likes"], found["artists"] * found["tracks"] // 20)
    return found
