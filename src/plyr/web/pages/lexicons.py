"""plyr's lexicon documents over HTTP: `GET /lexicons` (the list) and
`GET /lexicons/{nsid}.json` (one document, in the configured namespace).

The network finds a lexicon through DNS `_lexicon.<authority>` and a
`com.atproto.lexicon.schema` record (`plyr lexicons publish`); there is no well-known HTTP
path for it in the specs. These addresses are for people and tools that want the exact
documents this plyr validates with (and its permission set, `<namespace>.authFullApp`),
named by NSID as lexicon browsers and repositories name them. Public, cacheable, readable
from any origin.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from plyr.atproto.lexicon import UnknownLexiconError
from plyr.web.shared.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


@router.get("/lexicons")
async def lexicon_index(runtime: RuntimeDep) -> JSONResponse:
    public = runtime.settings.public_url
    listed: list[dict[str, Any]] = [
        {
            "id": document["id"],
            "type": document["defs"].get("main", {}).get("type", "defs"),
            "url": f"{public}/lexicons/{document['id']}.json",
        }
        for document in runtime.lexicons.documents()
    ]
    return JSONResponse({"lexicons": listed}, headers=HEADERS)


@router.get("/lexicons/{nsid}.json")
async def lexicon_document(nsid: str, runtime: RuntimeDep) -> JSONResponse:
    try:
        document = runtime.lexicons.document(nsid)
    except UnknownLexiconError:
        body = {"error": {"code": "not_found", "message": f"plyr has no lexicon {nsid[:300]!r}"}}
        return JSONResponse(body, status_code=404, headers=HEADERS)
    return JSONResponse(document, headers=HEADERS)
