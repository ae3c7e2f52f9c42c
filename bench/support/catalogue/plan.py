"""Planning the tracks before their rows: owners, dates, durations, popularity, the plays
drawn (a track's play_count is its number of Play rows) and the albums."""

from __future__ import annotations

import math
from datetime import timedelta

from support.catalogue.draws import cumulative, pick, zipf_weights
from support.catalogue.state import Catalogue


def plan_tracks(catalogue: Catalogue) -> None:
    rng = catalogue.rng
    n_artists, n_tracks = catalogue.sizes["artists"], catalogue.sizes["tracks"]
    # Artists ranked by fame: the famous ones own more tracks and get more plays each.
    fame_order = list(range(n_artists))
    rng.shuffle(fame_order)
    fame = [0.0] * n_artists
    for rank, artist in enumerate(fame_order):
        fame[artist] = 1.0 / (rank + 1) ** 0.9
    owner_cum = cumulative(zipf_weights(n_artists, 0.7))
    start = catalogue.now - timedelta(days=730)
    step = (catalogue.now - start) / n_tracks
    popularity = []
    for index in range(n_tracks):
        artist = fame_order[pick(rng, owner_cum)]
        catalogue.track_artist.append(artist)
        catalogue.track_created.append(start + step * index + timedelta(seconds=rng.random() * 600))
        catalogue.track_duration.append(int(90 + (330 * rng.random() ** 1.6)))
        catalogue.track_album.append(None)
        popularity.append(fame[artist] * math.exp(rng.gauss(0.0, 1.6)))
    catalogue.track_pop_cum = cumulative(popularity)
    catalogue.play_tracks = [
        pick(rng, catalogue.track_pop_cum) for _ in range(catalogue.sizes["plays"])
    ]


def plan_albums(catalogue: Catalogue) -> list[tuple[int, str, list[int]]]:
    """(artist, album name, track indexes) — each track on one album at most."""
    rng = catalogue.rng
    by_artist: dict[int, list[int]] = {}
    for index, artist in enumerate(catalogue.track_artist):
        by_artist.setdefault(artist, []).append(index)
    candidates = [artist for artist, found in by_artist.items() if len(found) >= 5]
    weights = cumulative([len(by_artist[a]) ** 0.5 for a in candidates])
    albums: list[tuple[int, str, list[int]]] = []
    taken: set[int] = set()
    names_used: set[tuple[int, str]] = set()
    attempts = 0
    while len(albums) < catalogue.sizes["albums"] and attempts < catalogue.sizes["albums"] * 20:
        attempts += 1
        artist = candidates[pick(rng, weights)]
        free = [t for t in by_artist[artist] if t not in taken]
        if len(free) < 5:
            continue
        size = min(len(free), rng.randint(5, 30))
        first = rng.randrange(0, len(free) - size + 1)
        chosen = free[first : first + size]
        name = catalogue.names.title()
        if (artist, name.casefold()) in names_used:
            continue
        names_used.add((artist, name.casefold()))
        taken.update(chosen)
        for track in chosen:
            catalogue.track_album[track] = name
        albums.append((artist, name, chosen))
    return albums
