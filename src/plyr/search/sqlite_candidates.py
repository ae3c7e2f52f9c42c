"""Candidates on SQLite: FTS5 trigram tables (migration 0008) and covering indexes (0016).

- Substrings: the query as one FTS5 phrase (`tokenize='trigram'` finds substrings of 3+
  characters), the newest DIRECT matches; for tracks, when there are that many, also the
  POPULAR most played tracks that contain it, read from `ix_search_tracks_plays`. The
  rows found are ranked by `band_sql` and popularity, their columns read from covering
  indexes (the wide rows of `tracks` are read for the hits only); under 3 characters, the
  NEWEST rows take the FTS's place.
- Typos: rows sharing the most of the query's trigrams, counted with one GROUP BY over a
  lookup per trigram (each trigram's newest TYPO_POSTINGS rows: a common trigram says
  little about a row and costs the most to read).

User text is plain text: a bound parameter, quoted as one FTS5 phrase (`fts_phrase`), and
with LIKE's wildcards escaped; it is normalised first, so it holds no NUL.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from plyr.search.scoring import normalise, query_trigrams

# Typo candidates: TYPO_TRIGRAMS of the query's trigrams (spread over all of it), each
# one's newest TYPO_POSTINGS rows. Always as many lookups: fewer trigrams are padded with
# one that is never indexed (control characters never reach a query), so every query has
# one statement to prepare, not one per trigram count.
TYPO_TRIGRAMS = 10
TYPO_POSTINGS = 250
_NOWHERE = "\x01\x01\x01"


@dataclass(frozen=True, slots=True)
class Source:
    fts: str  # the FTS5 table
    fts_key: str  # its column naming the source row
    fts_condition: str  # extra condition on the FTS row
    table: str  # the source table, as `t` in the SQL below
    key: str
    index: str  # `INDEXED BY …` for reading `t` (covering), or ""
    condition: str  # which rows may be found
    searched: tuple[str, ...]  # the searched columns
    columns: tuple[tuple[str, float], ...]  # the same, lowercased, with their weights
    order: str  # after the band: the most popular, then the newest
    newest: str  # the newest first, for queries under 3 characters
    popular: bool  # also look through the most played rows (tracks)


_SOURCES: dict[Kind, Source] = {
    "tracks": Source(
        "search_tracks",
        "rowid",
        "",
        "tracks",
        "id",
        "INDEXED BY ix_search_tracks_id",
        "1 = 1",  # unpublished tracks: not in the FTS table, left out when hits load
        ("title", "artist_name"),
        (("lower(t.title)", 1.0), ("lower(t.artist_name)", SECONDARY)),
        "t.play_count DESC, t.created_at DESC, t.id DESC",
        "t.id DESC",
        True,
    ),
    "artists": Source(
        "search_artists",
        "did",
        "",
        "artists",
        "did",
        "",
        "1 = 1",
        ("handle", "display_name"),
        (("lower(t.handle)", 1.0), ("lower(t.display_name)", 1.0)),
        "t.created_at DESC, t.did",
        "t.rowid DESC",
        False,
    ),
    "albums": Source(
        "search_lists",
        "rowid",
        "AND list_type = 'album'",
        "lists",
        "id",
        "",
        "+t.list_type = 'album'",  # `+`: not by the list_type index (every album)
        ("name",),
        (("lower(t.name)", 1.0),),
        "t.created_at DESC, t.id DESC",
        "t.id DESC",
        False,
    ),
    "playlists": Source(
        "search_lists",
        "rowid",
        "AND list_type = 'playlist'",
        "lists",
        "id",
        "",
        "+t.list_type = 'playlist'",
        ("name",),
        (("lower(t.name)", 1.0),),
        "t.created_at DESC, t.id DESC",
        "t.id DESC",
        False,
    ),
    "tags": Source(
        "search_tags",
        "rowid",
        "",
        "tags",
        "id",
        "",
        "1 = 1",
        ("name",),
        (("lower(t.name)", 1.0),),
        "t.id DESC",
        "t.id DESC",
        False,
    ),
}


def fts_phrase(value: str) -> str:
    """User text as one FTS5 string (a phrase): inside double quotes with each `"` doubled,
    no character is query syntax (`*`, `^`, `:`, `-`, NEAR, AND/OR/NOT, brackets). `value`
    is normalised, so it holds no NUL, which would end the string early."""
    return '"' + value.replace('"', '""') + '"'


def _band(source: Source) -> str:
    bands = [band_sql(column, weight) for column, weight in source.columns]
    return bands[0] if len(bands) == 1 else f"max({', '.join(bands)})"


def _found(source: Source, q: str) -> str:
    """SQL for the CTEs `looked(k)` and `found(k)`: the keys to rank, matches from the FTS
    (or among the newest rows), and, when the FTS has DIRECT matches or more (or the query
    is under 3 characters), the matches among the most played."""
    matches = matches_sql(tuple(column for column, _weight in source.columns))
    read = ", ".join(f"t.{column}" for column in source.searched)
    if len(q) >= 3:
        looked = (
            f"SELECT {source.fts_key} FROM {source.fts} "
            f"WHERE {source.fts} MATCH :phrase {source.fts_condition} "
            f"ORDER BY rowid DESC LIMIT {DIRECT}"
        )
        # A LIMIT is computed once, before the scan (a condition in WHERE is checked row by
        # row); `looked` is materialised, so the FTS is not asked twice.
        popular = f"CASE WHEN (SELECT count(*) FROM looked) >= {DIRECT} THEN {POPULAR} ELSE 0 END"
    else:
        looked = (
            f"SELECT k FROM (SELECT t.{source.key} AS k, {read} FROM {source.table} AS t "
            f"{source.index} WHERE {source.condition} ORDER BY {source.newest} "
            f"LIMIT {NEWEST}) AS t WHERE {matches}"
        )
        popular = str(POPULAR)
    found = "SELECT k FROM looked"
    if source.popular:
        found += (
            f" UNION SELECT k FROM (SELECT t.{source.key} AS k, {read} "
            f"FROM {source.table} AS t INDEXED BY ix_search_tracks_plays "
            f"WHERE {source.condition} ORDER BY {source.order} LIMIT {popular}) AS t "
            f"WHERE {matches}"
        )
    return f"looked(k) AS MATERIALIZED ({looked}), found(k) AS ({found})"


async def sqlite_candidates(session: AsyncSession, kind: Kind, query: str, want: int) -> Rows:
    q = normalise(query)
    source = _SOURCES[kind]
    params: dict[str, str] = {**band_parameters(q), "phrase": fts_phrase(q)}
    strong = (
        f"SELECT t.{source.key} AS k, {_band(source)} AS band "
        f"FROM found JOIN {source.table} AS t {source.index} ON t.{source.key} = found.k "
        f"WHERE {source.condition} ORDER BY band DESC, {source.order} "
        f"LIMIT {strong_count(want)}"
    )
    sql = f"WITH {_found(source, q)}, strong AS MATERIALIZED ({strong}), "
    grams = _typo_trigrams(q) if len(q) >= 3 else []
    if grams:
        # Typo candidates only when fewer than `want` rows beat any typo (a LIMIT is
        # computed once, before its rows are looked for).
        params.update({f"g{i}": fts_phrase(gram) for i, gram in enumerate(grams)})
        needed = (
            f"CASE WHEN (SELECT count(*) FROM strong WHERE band > {FUZZY_CEILING}) >= {want} "
            f"THEN 0 ELSE {fuzzy_count(want)} END"
        )
        sql += (
            f"picked(k) AS (SELECT k FROM strong UNION "
            f"SELECT * FROM ({_typos(source, grams, needed)}))"
        )
    else:
        sql += "picked(k) AS (SELECT k FROM strong)"
    statement = display_statement(kind, session.get_bind().dialect, sql)
    return (await session.execute(statement, params)).all()


def _typo_trigrams(q: str) -> list[str]:
    """TYPO_TRIGRAMS trigrams of the query, spread over it, padded; none for no trigram."""
    grams = query_trigrams(q)
    if not grams:
        return []
    if len(grams) > TYPO_TRIGRAMS:
        grams = [grams[i * len(grams) // TYPO_TRIGRAMS] for i in range(TYPO_TRIGRAMS)]
    return grams + [_NOWHERE] * (TYPO_TRIGRAMS - len(grams))


def _typos(source: Source, grams: list[str], count: str) -> str:
    """SQL for the rows sharing the most of the query's trigrams (`:g0`, `:g1`, …), at
    most `count`: each trigram's newest TYPO_POSTINGS rows (a common trigram says little
    about a row and costs the most to read), counted per row."""
    union = " UNION ALL ".join(
        f"SELECT r FROM (SELECT rowid AS r FROM {source.fts} WHERE {source.fts} MATCH :g{i} "
        f"{source.fts_condition} ORDER BY rowid DESC LIMIT {TYPO_POSTINGS})"
        for i in range(len(grams))
    )
    best = f"SELECT r FROM ({union}) GROUP BY r ORDER BY count(*) DESC, r DESC LIMIT {count}"
    if source.fts_key == "rowid":
        return best
    return f"SELECT {source.fts_key} FROM {source.fts} WHERE rowid IN ({best})"
