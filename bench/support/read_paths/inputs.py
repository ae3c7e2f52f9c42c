"""The inputs the read paths are asked with, drawn from the catalogue: track ids by plays,
artists half by popularity and half uniformly, and search queries as people type them."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db.models import Artist, PublishState, Track


@dataclass
class Inputs:
    track_ids: list[int]
    handles: list[str]
    queries: list[str]
    # What the Cmd+K dialog asks while a query is typed: every prefix, one letter more each
    typed: list[str] = field(default_factory=list)


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # two letters swapped
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 1:  # a letter dropped
        return word[:at] + word[at + 1 :]
    return word[:at] + rng.choice("aeioustrnl") + word[at + 1 :]  # a letter wrong


def search_queries(
    rng: random.Random, titles: list[str], names: list[str], count: int
) -> list[str]:
    """What people type: a word of a title, its start, a typo, two words, an artist."""
    found: list[str] = []
    while len(found) < count:
        source = rng.choice(titles) if rng.random() < 0.7 else rng.choice(names)
        words = [w for w in re.split(r"\W+", source.lower()) if w]
        if not words:
            continue
        word = rng.choice(words)
        shape = rng.random()
        if shape < 0.3:
            query = word
        elif shape < 0.55:
            query = word[: max(3, len(word) // 2)]  # typed halfway
        elif shape < 0.75:
            query = typo(rng, word)
        elif shape < 0.9 and len(words) > 1:
            start = rng.randrange(len(words) - 1)
            query = " ".join(words[start : start + 2])
        else:
            query = source.lower()
        found.append(query)
    return found


async def gather_inputs(engine: AsyncEngine, count: int, seed: int) -> Inputs:
    rng = random.Random(seed)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Track.id, Track.play_count, Track.title, Track.artist_did).where(
                    Track.publish_state == PublishState.published
                )
            )
        ).all()
        artists = (
            await conn.execute(
                select(Artist.did, Artist.handle, Artist.display_name).where(
                    Artist.did.in_(select(Track.artist_did).distinct())
                )
            )
        ).all()
    ids = [row.id for row in rows]
    weights = [row.play_count + 1 for row in rows]
    handle_of = {row.did: row.handle for row in artists}
    popular = [handle_of[row.artist_did] for row in rng.choices(rows, weights, k=count // 2)]
    uniform = [row.handle for row in rng.choices(artists, k=count - len(popular))]
    handles = popular + uniform
    rng.shuffle(handles)
    titles = [row.title for row in rng.sample(rows, min(len(rows), 5000))]
    names = [row.display_name or row.handle.split(".")[0] for row in artists]
    queries = search_queries(rng, titles, names, count)
    return Inputs(
        track_ids=rng.choices(ids, weights, k=count),
        handles=handles,
        queries=queries,
        typed=typed_prefixes(queries, count),
    )


def typed_prefixes(queries: list[str], count: int) -> list[str]:
    """`count` keystrokes: "n", "ni", "nig", … of each query in turn (spaces not alone)."""
    typed: list[str] = []
    for query in queries:
        typed.extend(query[:end] for end in range(1, len(query) + 1) if query[:end].strip())
        if len(typed) >= count:
            break
    return typed[:count]
