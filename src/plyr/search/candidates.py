"""Finding candidates: the ids a query may match, per kind, from the database's own index.

Two backends with one shape — `async (session, kind, query) -> list[id]` — chosen by the
engine's dialect. They only have to find a superset of what `scoring.score` keeps, capped
at `CANDIDATES` per kind; ranking happens afterwards, in Python, the same for both.

- SQLite (FTS5, `tokenize='trigram'`): a phrase query finds substrings (3+ characters);
  for typos an OR of the query's trigrams finds rows sharing any, best bm25 first.
- PostgreSQL (pg_trgm): `q <% lower(col)` (word similarity, never below similarity) and
  `lower(col) LIKE '%q%'`, both answered by the GIN `gin_trgm_ops` indexes of migration
  0008; the threshold is set to `scoring.MIN_SIMILARITY` for the transaction.
- Queries under 3 characters have no trigram to look up: a plain LIKE on the tables, most
  popular first (a bounded scan).

User text is plain text everywhere: a bound parameter, quoted as one FTS5 phrase, and with
LIKE's `%`, `_` and `\\` escaped; control characters are spaces (`scoring.normalise`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.search.scoring import MIN_SIMILARITY, normalise, query_trigrams

Kind = Literal["tracks", "artists", "albums", "playlists", "tags"]
KINDS: tuple[Kind, ...] = ("tracks", "artists", "albums", "playlists", "tags")

# Rows looked at per kind and query: enough for any page of results, small enough that
# scoring them costs nothing next to the query.
CANDIDATES = 200

CandidateFinder = Callable[[AsyncSession, Kind, str], Awaitable[list[int | str]]]


def like_pattern(query: str) -> str:
    """`%query%` with LIKE's wildcards taken literally (ESCAPE '\\')."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prefix_pattern(query: str) -> str:
    return like_pattern(query)[1:]


# What each kind searches: the table, its key, the searched columns, the literal condition
# for rows that may be found, and the popularity expression that orders short queries.
_SOURCES: dict[Kind, tuple[str, str, tuple[str, ...], str, str]] = {
    "tracks": ("tracks", "id", ("title", "artist_name"), "atproto_uri IS NOT NULL", "play_count"),
    "artists": ("artists", "did", ("handle", "display_name"), "1 = 1", "created_at"),
    "albums": ("lists", "id", ("name",), "list_type = 'album'", "created_at"),
    "playlists": ("lists", "id", ("name",), "list_type = 'playlist'", "created_at"),
    "tags": ("tags", "id", ("name",), "1 = 1", "id"),
}


async def short_query(session: AsyncSession, kind: Kind, query: str) -> list[int | str]:
    """Under 3 characters: substring LIKE, prefix matches first, then the most popular."""
    table, key, columns, condition, popularity = _SOURCES[kind]
    q = normalise(query)
    matches = " OR ".join(f"lower({c}) LIKE :like ESCAPE '\\'" for c in columns)
    prefixes = " OR ".join(f"lower({c}) LIKE :prefix ESCAPE '\\'" for c in columns)
    sql = (
        f"SELECT {key} FROM {table} WHERE {condition} AND ({matches}) "
        f"ORDER BY CASE WHEN {prefixes} THEN 0 ELSE 1 END, {popularity} DESC "
        f"LIMIT {CANDIDATES}"
    )
    rows = await session.execute(text(sql), {"like": like_pattern(q), "prefix": prefix_pattern(q)})
    return [row[0] for row in rows]


# --- SQLite ----------------------------------------------------------------------------

# kind → (FTS table, how its rows name the source row, extra condition on the FTS row)
_FTS: dict[Kind, tuple[str, str, str]] = {
    "tracks": ("search_tracks", "rowid", ""),
    "artists": ("search_artists", "did", ""),
    "albums": ("search_lists", "rowid", "AND list_type = 'album'"),
    "playlists": ("search_lists", "rowid", "AND list_type = 'playlist'"),
    "tags": ("search_tags", "rowid", ""),
}


def _fts_phrase(value: str) -> str:
    """User text as one FTS5 string (a phrase): inside double quotes with each `"` doubled,
    no character is query syntax (`*`, `^`, `:`, `-`, NEAR, AND/OR/NOT, brackets). `value`
    is normalised, so it holds no NUL, which would end the string early."""
    return '"' + value.replace('"', '""') + '"'


async def sqlite_candidates(session: AsyncSession, kind: Kind, query: str) -> list[int | str]:
    q = normalise(query)
    if len(q) < 3:
        return await short_query(session, kind, q)
    table, key, condition = _FTS[kind]
    found: dict[int | str, None] = {}
    # Substrings: the trigram phrase query (exact and prefix matches are substrings too).
    rows = await session.execute(
        text(
            f"SELECT {key} FROM {table} WHERE {table} MATCH :phrase {condition} "
            f"ORDER BY rank LIMIT {CANDIDATES}"
        ),
        {"phrase": _fts_phrase(q)},
    )
    found.update((row[0], None) for row in rows)
    grams = query_trigrams(q)
    if len(found) < CANDIDATES and grams:
        # Typos: rows sharing any of the query's trigrams, those sharing the most first.
        rows = await session.execute(
            text(
                f"SELECT {key} FROM {table} WHERE {table} MATCH :any {condition} "
                f"ORDER BY rank LIMIT {CANDIDATES}"
            ),
            {"any": " OR ".join(_fts_phrase(g) for g in grams)},
        )
        for row in rows:
            if len(found) >= CANDIDATES:
                break
            found.setdefault(row[0], None)
    return list(found)


# --- PostgreSQL --------------------------------------------------------------------------


async def postgres_candidates(session: AsyncSession, kind: Kind, query: str) -> list[int | str]:
    q = normalise(query)
    if len(q) < 3:
        return await short_query(session, kind, q)
    table, key, columns, condition, _popularity = _SOURCES[kind]
    if table == "lists":
        # Word for word the partial index's condition, plus the kind (both literals).
        condition = f"list_type IN ('album', 'playlist') AND {condition}"
    # The thresholds of `%` and `<%` for this transaction: the floor scoring uses.
    threshold = str(MIN_SIMILARITY)
    await session.execute(
        text(
            "SELECT set_config('pg_trgm.similarity_threshold', :t, true),"
            " set_config('pg_trgm.word_similarity_threshold', :t, true),"
            # The planner prices pg_trgm's operators as cheap and its estimates of how many
            # rows match are guesses, so it picks a sequential scan that computes word
            # similarity for every row; the GIN indexes are the right plan at any size.
            " set_config('enable_seqscan', 'off', true)"
        ),
        {"t": threshold},
    )
    # `<%` (word similarity) covers `%` (similarity is never higher); LIKE covers parts of
    # words. No LIMIT in the matching step: with one, the planner bets on a sequential scan
    # finding 200 rows early; materialised, it scans the GIN indexes (BitmapOr) instead.
    matches = " OR ".join(
        f"CAST(:q AS text) <% lower({c}) OR lower({c}) LIKE :like ESCAPE '\\'" for c in columns
    )
    substring = " OR ".join(f"lower({c}) LIKE :like ESCAPE '\\'" for c in columns)
    closeness = ", ".join(f"word_similarity(CAST(:q AS text), lower({c}))" for c in columns)
    selected = ", ".join(columns)
    sql = (
        f"WITH matched AS MATERIALIZED (SELECT {key}, {selected} FROM {table} "
        f"WHERE {condition} AND ({matches})) "
        f"SELECT {key} FROM matched "
        f"ORDER BY CASE WHEN {substring} THEN 0 ELSE 1 END, "
        f"coalesce(greatest({closeness}), 0) DESC LIMIT {CANDIDATES}"
    )
    rows = await session.execute(text(sql), {"q": q, "like": like_pattern(q)})
    return [row[0] for row in rows]


def finder_for(dialect: str) -> CandidateFinder:
    if dialect == "sqlite":
        return sqlite_candidates
    if dialect == "postgresql":
        return postgres_candidates
    raise ValueError(f"search does not support the {dialect!r} database")
