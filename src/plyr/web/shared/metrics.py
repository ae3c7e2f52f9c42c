"""Counting each request for /metrics, from the request-id middleware that already wraps
every request (one middleware fewer on the hot path).

Labels stay few whatever clients send: the route is the matched route's path template
(`/api/tracks/{track_id}`, never `/api/tracks/42`), "unmatched" when no route matched, and
a method outside the usual ones counts as "other".
"""

from __future__ import annotations

from starlette.types import Scope

from plyr.monitoring import Monitoring

UNMATCHED = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def monitoring_of(scope: Scope) -> Monitoring | None:
    """The app's Monitoring (create_app puts it on app.state); None for a bare ASGI app."""
    app = scope.get("app")
    monitoring = getattr(getattr(app, "state", None), "monitoring", None)
    return monitoring if isinstance(monitoring, Monitoring) else None


def route_template(scope: Scope) -> str:
    """The path template of the route the router chose for this request (set in the scope
    once routing ran; a mount such as /static reads `/static/{path}`)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def record_request(scope: Scope, status: int, seconds: float) -> None:
    monitoring = monitoring_of(scope)
    if monitoring is not None:
        monitoring.observe_request(
            method_label(scope["method"]), route_template(scope), status, seconds
        )
