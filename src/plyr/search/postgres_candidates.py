"""Candidates on PostgreSQL: pg_trgm GIN indexes (migrations 0008 and 0016).

Tracks are searched in `search_track_docs` (0016): one narrow row per published track (its
lowercased title and artist name, plays, date), kept by a trigger on `tracks`, with GIN
`gin_trgm_ops` indexes. Matching rows must be read back from the table (trigram matches
are rechecked), and a narrow table holds a hundred of them a page where `tracks` holds ten.
Artists, albums, playlists and tags use their own tables' indexes (0008).

- Substrings: `LIKE '%q%'` through the GIN indexes, at most DIRECT rows; for tracks, when
  there are that many, also the POPULAR most played that contain it; ranked by
  `band_sql`, plays and age. Under 3 characters (no trigram to look up) the NEWEST rows
  are looked through instead.
- Typos: `q <% text` (word similarity at least `scoring.MIN_SIMILARITY`, the threshold set
  for the transaction), the most alike of the first TYPO_ROWS the index finds.

User text is always a bound parameter, with LIKE's wildcards escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.search.candidates import (
    DIRECT,
    FUZZY_CEILING,
    NEWEST,
    POPULAR,
    SECONDARY,
    Kind,
    band_parameters,
    band_sql,
    fuzzy_count,
    matches_sql,
    strong_count,
)
from plyr.search.loading import Rows, display_statement
from plyr.search.scoring import MIN_SIMILARITY, normalise

# Rows rechecked for typo candidates, at most.
TYPO_ROWS = 150
_TRGM_SET = "plyr.search.trgm"  # session.info: the transaction's settings are made


@dataclass(frozen=True, slots=True)
class Source:
    table: str  # read as `t`
    key: str
    condition: str  # which rows may be found; partial indexes' conditions word for word
    columns: tuple[tuple[str, float], ...]  # the searched texts, lowercased, with weights
    read: str  # the columns the ranking reads
    order: str  # after the band: the most popular, then the newest
    newest: str  # the newest first, for queries under 3 characters
    popular: bool  # also look through the most played rows (tracks)


_LISTS = "t.list_type IN ('album', 'playlist') AND t.list_type = '{}'"

_SOURCES: dict[Kind, Source] = {
    "tracks": Source(
        "search_track_docs",
        "id",
        "1 = 1",
        (("t.title", 1.0), ("t.artist_name", SECONDARY)),
        "t.id, t.title, t.artist_name, t.play_count, t.created_at",
        "t.play_count DESC, t.created_at DESC, t.id DESC",
        "t.id DESC",
        True,
    ),
    "artists": Source(
        "artists",
        "did",
        "1 = 1",
        (("lower(t.handle)", 1.0), ("lower(t.display_name)", 1.0)),
        "t.did, t.handle, t.display_name, t.created_at",
        "t.created_at DESC, t.did",
        "t.created_at DESC",
        False,
    ),
    "albums": Source(
        "lists",
        "id",
        _LISTS.format("album"),
        (("lower(t.name)", 1.0),),
        "t.id, t.name, t.created_at",
        "t.created_at DESC, t.id DESC",
        "t.id DESC",
        False,
    ),
    "playlists": Source(
        "lists",
        "id",
        _LISTS.format("playlist"),
        (("lower(t.name)", 1.0),),
        "t.id, t.name, t.created_at",
        "t.created_at DESC, t.id DESC",
        "t.id DESC",
        False,
    ),
    "tags": Source(
        "tags",
        "id",
        "1 = 1",
        (("lower(t.name)", 1.0),),
        "t.id, t.name",
        "t.id DESC",
        "t.id DESC",
        False,
    ),
}


def _band(source: Source) -> str:
    bands = [band_sql(column, weight) for column, weight in source.columns]
    return bands[0] if len(bands) == 1 else f"greatest({', '.join(bands)})"


def _found(source: Source, q: str) -> str:
    """SQL for the CTEs `looked` and `found`: the rows to rank, matches through the index
    (or among the newest rows), and, when the index has DIRECT matches or more (or the
    query is under 3 characters), the matches among the most played."""
    matches = matches_sql(tuple(column for column, _weight in source.columns))
    rows = f"SELECT {source.read} FROM {source.table} AS t"
    if len(q) >= 3:
        looked = f"{rows} WHERE {source.condition} AND ({matches}) LIMIT {DIRECT}"
        popular_rows = (
            f"CASE WHEN (SELECT count(*) FROM looked) >= {DIRECT} THEN {POPULAR} ELSE 0 END"
        )
    else:
        newest = f"{rows} WHERE {source.condition} ORDER BY {source.newest} LIMIT {NEWEST}"
        looked = f"SELECT * FROM ({newest}) AS t WHERE {matches}"
        popular_rows = str(POPULAR)
    found = "SELECT * FROM looked"
    if source.popular:
        popular = f"{rows} WHERE {source.condition} ORDER BY {source.order} LIMIT {popular_rows}"
        found += f" UNION SELECT * FROM ({popular}) AS t WHERE {matches}"
    return f"looked AS MATERIALIZED ({looked}), found AS MATERIALIZED ({found})"


async def postgres_candidates(session: AsyncSession, kind: Kind, query: str, want: int) -> Rows:
    q = normalise(query)
    source = _SOURCES[kind]
    strong = (
        f"SELECT t.{source.key} AS k, {_band(source)} AS band FROM found AS t "
        f"ORDER BY band DESC, {source.order} LIMIT {strong_count(want)}"
    )
    sql = f"WITH {_found(source, q)}, strong AS MATERIALIZED ({strong}), "
    if len(q) >= 3:
        await _typo_settings(session)
        # Typo candidates only when fewer than `want` rows beat any typo (the LIMIT is
        # computed before the typo rows are looked for).
        needed = (
            f"CASE WHEN (SELECT count(*) FROM strong WHERE band > {FUZZY_CEILING}) >= {want} "
            f"THEN 0 ELSE {fuzzy_count(want)} END"
        )
        sql += f"picked AS (SELECT k FROM strong UNION ({_typos(source, needed)}))"
    else:
        sql += "picked AS (SELECT k FROM strong)"
    statement = display_statement(kind, session.get_bind().dialect, sql)
    return (await session.execute(statement, band_parameters(q))).all()


async def _typo_settings(session: AsyncSession) -> None:
    """For the rest of the transaction (the search's): `<%`'s threshold, and no sequential
    scans. pg_trgm's operators look cheap to the planner and its row estimates for them
    are guesses: it would rather compute word similarity for every row than use the GIN
    indexes, which are the right plan at any size."""
    if session.info.get(_TRGM_SET):
        return
    await session.execute(
        text(
            "SELECT set_config('pg_trgm.word_similarity_threshold', :t, true),"
            " set_config('enable_seqscan', 'off', true)"
        ),
        {"t": str(MIN_SIMILARITY)},
    )
    session.info[_TRGM_SET] = True


def _typos(source: Source, count: str) -> str:
    """SQL for the rows most like the query (`q <% text`), at most `count`, from the first
    TYPO_ROWS the index finds."""
    close = " OR ".join(f"CAST(:q AS text) <% {column}" for column, _weight in source.columns)
    alike = ", ".join(
        f"{weight} * word_similarity(CAST(:q AS text), {column})"
        for column, weight in source.columns
    )
    alike = alike if len(source.columns) == 1 else f"greatest({alike})"
    return (
        f"SELECT t.{source.key} FROM (SELECT {source.read} FROM {source.table} AS t "
        f"WHERE {source.condition} AND ({close}) LIMIT {TYPO_ROWS}) AS t "
        f"ORDER BY coalesce({alike}, 0) DESC, {source.order} LIMIT {count}"
    )
