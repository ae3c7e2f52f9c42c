"""The OpenAPI says how the API fails: every error answer is in the one `ErrorOut` shape, and
what a route's dependencies make it answer (401 without a caller, 403 on a CSRF failure,
422 for invalid input) is listed on that route. The fuzz test (tests/test_api_fuzz.py)
checks the answers a running server really gives against this description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant

from plyr.web.app import create_app
from plyr.web.shared.caller import check_csrf, current_caller, require_caller
from tests.app.test_openapi_media import MEDIA_PATHS
from tests.app.test_route_params import api_routes
from tests.conftest import make_settings

ERROR_OUT = "#/components/schemas/ErrorOut"
# Error statuses that answer another shape, on purpose.
OTHER_SHAPES = {
    ("PUT", "/api/queue", "409"): "the current queue, to merge with",
    ("GET", "/health", "503"): "the health report itself",
    # A file's refusals of a precondition or a range have no body, as any file server's.
    **{("GET", path, status): "no body" for path in MEDIA_PATHS for status in ("412", "416")},
}


def _openapi(tmp_path: Path) -> tuple[dict[str, Any], Any]:
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'plyr.db'}"))
    return app.openapi(), app


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def test_every_error_answer_has_the_error_shape(tmp_path: Path) -> None:
    schema, _app = _openapi(tmp_path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    wrong = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400 or (method.upper(), path, status) in OTHER_SHAPES:
                    continue
                ref = response.get("content", {}).get("application/json", {}).get("schema", {})
                if ref.get("$ref") != ERROR_OUT:
                    wrong.append(f"{method.upper()} {path} {status}: {ref}")
    assert wrong == []


def test_routes_list_the_errors_their_dependencies_raise(tmp_path: Path) -> None:
    schema, app = _openapi(tmp_path)
    missing = []
    for label, route in api_routes(app):
        if not route.include_in_schema:
            continue
        calls = _calls(route.dependant)
        dependant = route.dependant
        takes_input = any(
            (dependant.path_params, dependant.query_params, dependant.body_params)
        ) or bool(route.openapi_extra)
        expected = {
            "401": require_caller in calls or current_caller in calls,
            "403": check_csrf in calls,
            "422": takes_input,
        }
        for method in route.methods:
            documented = schema["paths"][route.path_format][method.lower()]["responses"]
            missing += [
                f"{label}: {status}"
                for status, needed in expected.items()
                if needed and status not in documented
            ]
    assert missing == []
