"""What search answers: a hit per found row, and who asks (`Audience`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from plyr.search.scoring import Score

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str  # track | artist | album | playlist | tag
    id: str
    title: str
    subtitle: str | None
    url: str
    image_url: str | None
    score: float  # 0..1, see plyr.search.scoring
    match: str  # exact | prefix | word_prefix | substring | fuzzy
    popularity: int  # plays (tracks, an artist's or a list's tracks); tracks for a tag
    created_at: datetime | None = None
    # Stored keys and URLs of the artwork, for the sensitive-artwork check (not shown).
    images: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "url": self.url,
            "image_url": self.image_url,
            "score": self.score,
            "match": self.match,
        }


@dataclass(frozen=True, slots=True)
class Audience:
    """Who searches: their DID (None signed out) and whether they opted in to seeing
    content-warned tracks in search."""

    did: str | None = None
    show_warned: bool = False


SIGNED_OUT = Audience()


def rank(hit: SearchHit) -> tuple[float, int, float, str]:
    """The order of a group: best score, then most played, then newest (then the id)."""
    newest = (hit.created_at or _EPOCH).timestamp()
    return (-hit.score, -hit.popularity, -newest, hit.id)


def make_hit(
    kind: str,
    id_: str,
    title: str,
    subtitle: str | None,
    url: str,
    image_url: str | None,
    found: Score,
    popularity: int,
    created_at: datetime | None,
    images: tuple[str | None, ...],
) -> SearchHit:
    return SearchHit(
        kind=kind,
        id=id_,
        title=title,
        subtitle=subtitle,
        url=url,
        image_url=image_url,
        score=found.value,
        match=found.match.value,
        popularity=popularity,
        created_at=created_at,
        images=tuple(image for image in images if image),
    )
