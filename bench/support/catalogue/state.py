"""The catalogue being built: what later tables use of earlier choices; one table's rows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from plyr.db.models import Base
from support.catalogue.names import Names


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


@dataclass
class TableRows:
    table: Table
    columns: list[str]
    rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]
    count: int


@dataclass
class Catalogue:
    """Builds the rows table by table; later tables use what earlier ones chose."""

    sizes: dict[str, int]
    seed: int
    now: datetime
    rng: random.Random = field(init=False)
    names: Names = field(init=False)
    dids: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    track_artist: list[int] = field(default_factory=list)  # index into dids, per track - 1
    track_created: list[datetime] = field(default_factory=list)
    track_uri: list[str] = field(default_factory=list)
    track_cid: list[str] = field(default_factory=list)
    track_duration: list[int] = field(default_factory=list)
    track_album: list[str | None] = field(default_factory=list)
    track_pop_cum: list[float] = field(default_factory=list)
    play_tracks: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.names = Names(random.Random(self.seed + 1))
