"""`/search`: the search page, which works without JavaScript (the ctrl+k dialog uses the
API). Thin over `plyr.search`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from plyr.search import KINDS, parse_types, search
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

PAGE_LIMIT = 20
MAX_QUERY_PARAM = 200


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    q: Annotated[str, Query(max_length=MAX_QUERY_PARAM)] = "",
    type: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    try:
        types = parse_types(type)
    except ValueError:
        types = KINDS
    results = await search(runtime, q, types=types, limit=PAGE_LIMIT)
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
