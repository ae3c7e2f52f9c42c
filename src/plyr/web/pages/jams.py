"""The jam page (`/jam/{code}`): who listens, what plays, the link to share and, for the
host, the controls. Signed-in listeners only (the sign-in page comes first); the page's
script (`static/js/jam.js`) follows the jam over `/api/jams/{code}/events`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from plyr.listening.jams.state import read_jam
from plyr.web.shared.caller import BrowserDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/jam/{code}", response_class=HTMLResponse)
async def jam_page(
    code: Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")],
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
) -> HTMLResponse:
    view = await read_jam(runtime, code)
    others = [member for member in view.members if member.did != caller.did]
    return render(
        request,
        "jam.html",
        {
            "title": "jam",
            "jam": view,
            "others": others,
            "member": view.is_member(caller.did),
            "hosting": view.host.did == caller.did,
        },
    )
