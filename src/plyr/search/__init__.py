"""Search over tracks, artists, albums, playlists and tags (issue 8).

`search(runtime, query, types=…, limit=…)` is the one interface; the database backends
(SQLite FTS5 trigram tables, PostgreSQL pg_trgm) only find candidates, and one scoring
function ranks them, so both rank alike. See docs/architecture.md, "Search".
"""

from plyr.search.candidates import KINDS, Kind
from plyr.search.service import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY_TEXT,
    Audience,
    SearchHit,
    SearchResults,
    clean_query,
    parse_types,
    query_text,
    search,
)

__all__ = [
    "DEFAULT_LIMIT",
    "KINDS",
    "MAX_LIMIT",
    "MAX_QUERY_TEXT",
    "Audience",
    "Kind",
    "SearchHit",
    "SearchResults",
    "clean_query",
    "parse_types",
    "query_text",
    "search",
]
