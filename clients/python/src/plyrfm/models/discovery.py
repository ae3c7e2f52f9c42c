"""Finding music: search results, the site's figures."""

from __future__ import annotations

from plyrfm.models.base import PlyrModel


class SearchHit(PlyrModel):
    """One match: a track, artist, album, playlist or tag, with a relevance in 0..1."""

    __schema__ = "SearchHitOut"

    type: str
    id: str
    title: str
    subtitle: str | None
    url: str
    image_url: str | None
    score: float
    match: str
    sensitive: bool


class SearchGroup(PlyrModel):
    """The hits of one type (tracks, artists, albums, playlists or tags), best first."""

    __schema__ = "SearchGroupOut"

    type: str
    hits: list[SearchHit]


class SearchResults(PlyrModel):
    """What a search found, grouped by type."""

    __schema__ = "SearchOut"

    query: str
    total: int
    groups: list[SearchGroup]

    def hits(self, group: str) -> list[SearchHit]:
        """The hits of one group ("tracks", "artists", …); [] when it found none."""
        return next((g.hits for g in self.groups if g.type == group), [])


class Stats(PlyrModel):
    """The site's figures."""

    __schema__ = "StatsOut"

    plays: int
    tracks: int
    artists: int
    duration_seconds: int
