"""The tags and track_tags tables: genres first, then made-up words; `#ai` on ~2 %."""

from __future__ import annotations

from typing import Any

from plyr.db.models import Tag, TrackTag
from support.catalogue.draws import cumulative, pick, zipf_weights
from support.catalogue.names import words
from support.catalogue.state import Catalogue, TableRows, table_of

GENRES = words(
    "ambient techno house lofi hip-hop jazz folk indie rock punk metal pop synthwave "
    "drum-and-bass dubstep trap rnb soul funk disco classical piano experimental noise "
    "drone shoegaze dream-pop post-rock emo hardcore garage grime jungle breakbeat "
    "electro idm downtempo trip-hop chillwave vaporwave city-pop kpop jpop reggae dub ska "
    "country bluegrass blues gospel latin afrobeat dancehall field-recording soundtrack "
    "chiptune acoustic singer-songwriter beats instrumental live remix cover demo ai"
)


def tags(catalogue: Catalogue) -> tuple[TableRows, TableRows]:
    rng = catalogue.rng
    wanted = catalogue.sizes["tags"]
    names = list(dict.fromkeys(GENRES))[:wanted]
    while len(names) < wanted:
        candidate = catalogue.names.word(rng.choice((1, 2)))
        if candidate not in names and len(candidate) <= 40:
            names.append(candidate)
    tag_rows = [(index + 1, name) for index, name in enumerate(names)]
    # Genres first, so the common tags are real-looking; "ai" is rare but present.
    use_cum = cumulative(zipf_weights(len(names), 1.0))
    ai_id = names.index("ai") + 1 if "ai" in names else None
    links: list[tuple[Any, ...]] = []
    for track in range(1, catalogue.sizes["tracks"] + 1):
        count = rng.choices((0, 1, 2, 3, 4), (15, 30, 30, 15, 10))[0]
        chosen: list[int] = []
        if ai_id is not None and rng.random() < 0.02:
            chosen.append(ai_id)
        while len(chosen) < count:
            tag = pick(rng, use_cum) + 1
            if tag not in chosen:
                chosen.append(tag)
        links.extend((track, tag, position) for position, tag in enumerate(chosen))
    return (
        TableRows(table_of(Tag), ["id", "name"], tag_rows, len(tag_rows)),
        TableRows(table_of(TrackTag), ["track_id", "tag_id", "position"], links, len(links)),
    )
