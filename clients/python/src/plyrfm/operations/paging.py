"""Cursor paging: a page's `cursor` asks for the next; only the last page has none (a page
may hold fewer tracks than asked for, even none, when the server leaves some out). The
operation emits items one by one, so the caller's iterator fetches a page only when it
has used up the one before."""

from __future__ import annotations

from collections.abc import Mapping

from plyrfm.effects import Emit, Operation
from plyrfm.exchange import Context, call
from plyrfm.models import TrackPage
from plyrfm.routes import Route

PAGE_MAX = 100


def track_pages(
    ctx: Context, route: Route, page_size: int, params: Mapping[str, str | None] | None = None
) -> Operation[None]:
    """Every track of a paged listing, emitted in the server's order."""
    limit = max(1, min(page_size, PAGE_MAX))
    cursor: str | None = None
    while True:
        query = {**(params or {}), "cursor": cursor, "limit": limit}
        page = yield from call(ctx, route, TrackPage, params=query)
        for track in page.tracks:
            yield Emit(track)
        if not page.cursor or page.cursor == cursor:  # the end (or a server going round)
            return
        cursor = page.cursor
