"""`/metrics`: Prometheus's text exposition of this process (plyr.monitoring).

Who may read it: with PLYR_METRICS_TOKEN set, whoever sends it as a bearer token (403
otherwise, loopback included); unset, only a scraper on this machine: a loopback client
whose request no proxy forwarded (a proxy on loopback would otherwise make every visitor
look local). Anyone else gets 404, as if there were no such page. It is an operator's
endpoint, not part of the JSON API, so it stays out of the OpenAPI document.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from plyr.monitoring import Monitoring
from plyr.web.shared.deps import RuntimeDep

router = APIRouter()
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    token = runtime.settings.metrics_token
    if token is not None:
        if not _bearer_matches(request, token.get_secret_value()):
            return PlainTextResponse("a valid metrics token is needed\n", status_code=403)
    elif not _local_scraper(request):
        return PlainTextResponse("not found\n", status_code=404)
    monitoring: Monitoring = request.app.state.monitoring
    body, content_type = await monitoring.scrape(runtime.sessions, request.headers.get("accept"))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _bearer_matches(request: Request, expected: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken says nothing about how much of the token was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def _local_scraper(request: Request) -> bool:
    if request.client is None or any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
