"""Bounded numbers taken from requests: ids, counts and the keyset pages' cursor and limit.

Python ints have no size, but the databases do: ids are BIGINT (SQLite INTEGER), counters and
positions are INTEGER on PostgreSQL. An unbounded `int` from a URL or a body reached the
driver and failed there (a 500); bounding it at the edge answers 422 and says so in the
OpenAPI.

Use the Annotated aliases as they are. For an optional form field write `OptionalFormId`,
never `FormId | None`: FastAPI does not look inside an Optional for the `Form()` marker and
silently reads such a parameter from the query string instead
(`tests/app/test_route_params.py` fails on that).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import AfterValidator, Field, StrictInt

from plyr.db.keyset import MAX_CURSOR, parse_cursor

# BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite: every id column.
MAX_ID = 2**63 - 1
# INTEGER on PostgreSQL: revisions, positions, timestamps within a track.
MAX_COUNT = 2**31 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
OptionalFormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
FormIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form()]
# Fields of JSON body models: strict, so `true` or `"3"` is refused as the OpenAPI's
# `integer` says, not read as 1 or 3.
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]

# Keyset pages of the API's listings: `cursor` is the previous page's, as it was given.
MAX_PAGE = 100


def _given_out(cursor: str | None) -> str | None:
    """A cursor plyr made, or none: anything else is a 422 like any invalid parameter
    (the pages, by contrast, read a bad `?before=` as the first page)."""
    if cursor and parse_cursor(cursor) is None:
        raise ValueError("not a cursor plyr gave out: pass the previous page's `cursor` as is")
    return cursor


PageCursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="the `cursor` of the previous page; leave out for the first page "
        "(a cursor plyr did not give out is refused with 422)",
    ),
    AfterValidator(_given_out),
]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="tracks per page at most")]
