"""`/search`: the search page, which works without JavaScript (the ctrl+k dialog uses the
API). Thin over `plyr.search`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from plyr.search import KINDS, Audience, parse_types, query_text, search
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

PAGE_LIMIT = 20


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    # Any text searches as plain text; a very long one is cut off, not refused.
    q: Annotated[str, Query()] = "",
    type: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    try:
        types = parse_types(type)
    except ValueError:
        types = KINDS
    audience = Audience(
        caller.did if caller else None,
        bool(caller and caller.preferences and caller.preferences.show_warned_tracks),
    )
    results = await search(runtime, q, types=types, limit=PAGE_LIMIT, audience=audience)
    q = query_text(q)  # shown back in the form and the links: bounded, no control characters
    return render(
        request,
        "search.html",
        {
            "title": f"search: {q}" if q.strip() else "search",
            "q": q,
            "results": results,
            "types": types if set(types) != set(KINDS) else (),
            "kinds": KINDS,
        },
    )
