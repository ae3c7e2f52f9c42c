"""The OpenAPI is complete enough to build a client from: every route (the JSON API and the
media addresses beside it) says what it answers (a schema; bytes as a binary string under
their media type; events), every shape a client meets
carries a realistic example that validates against its own schema, every request body is
described, every operation has a summary and a description, and every operation that looks
at the caller says how to authenticate (`security`, derived from its dependencies). The
`info` states the API's version and the versioning policy.

Each check is a function returning what it finds wrong; plyr's document must give none, and
a small app built to get everything wrong must trip every one (so the checks can fail).
What only the media routes answer (ranges, 304, 416) is checked in `test_openapi_media.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from plyr.auth.sessions import COOKIE_NAME
from plyr.web.app import create_app
from plyr.web.shared.caller import check_csrf, current_caller, require_browser, require_caller
from plyr.web.shared.openapi import API_VERSION, install_openapi
from tests.conftest import make_settings

Schema = dict[str, Any]
REF = "#/components/schemas/"
# Answers that are neither JSON nor bytes; bytes are a binary string under their media type.
EVENTS = "text/event-stream"
BINARY = {"type": "string", "format": "binary"}
# The new listings the SDK pages through (spec of issue 17).
TRACK_PAGE_ROUTES = ("/api/tracks", "/api/me/tracks", "/api/me/likes")


@pytest.fixture(scope="module")
def plyr_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder = tmp_path_factory.mktemp("openapi")
    return create_app(make_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}"))


@pytest.fixture(scope="module")
def document(plyr_app: FastAPI) -> Schema:
    return plyr_app.openapi()


def _operations(document: Schema) -> Iterator[tuple[str, str, Schema]]:
    """(method, path, operation) of every operation: /api, /health, /oembed, the media."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _admin(path: str) -> bool:
    return path.startswith("/api/admin/")


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref", "")
    return ref.removeprefix(REF) if ref.startswith(REF) else None


def _refs_in(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        name = _ref_name(schema)
        if name is not None:
            yield name
        for value in schema.values():
            yield from _refs_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs_in(value)


def _reachable(document: Schema, roots: set[str]) -> set[str]:
    schemas = document["components"]["schemas"]
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += list(_refs_in(schemas[name]))
    return seen


# --- the checks ------------------------------------------------------------------------


def missing_answers(document: Schema) -> list[str]:
    """Routes whose success answer has no media type, JSON answers without a named schema,
    and bytes not described as a binary string."""
    problems = []
    for method, path, operation in _operations(document):
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        if not successes:
            problems.append(f"{method} {path}: no 2xx answer")
        for status, response in successes.items():
            if status == "204":
                continue
            content = response.get("content", {})
            if not content:
                problems.append(f"{method} {path} {status}: no media type")
            for media, described in content.items():
                schema = described.get("schema", {})
                named = _ref_name(schema) or _ref_name(schema.get("items", {}))
                if media != EVENTS and not _is_json(media) and schema != BINARY:
                    problems.append(f"{method} {path} {status} {media}: not binary {schema}")
                elif _is_json(media) and named is None:
                    problems.append(f"{method} {path} {status} {media}: untyped {schema}")
    return problems


def missing_examples(document: Schema) -> list[str]:
    """Shapes a client meets without an example: every schema a non-admin answer reaches,
    `ErrorOut`, and every JSON request body's."""
    roots = {"ErrorOut"}
    for _method, path, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        roots |= set(_refs_in(body))
        if _admin(path):
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                roots |= set(_refs_in(response.get("content", {})))
    schemas = document["components"]["schemas"]
    if "ErrorOut" not in schemas:
        return ["ErrorOut: not in the document"]
    return sorted(
        f"{name}: no examples"
        for name in _reachable(document, roots)
        if "properties" in schemas[name] and not schemas[name].get("examples")
    )


def _errors(document: Schema, schema: Schema, example: Any) -> Iterator[str]:
    validator = jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    for error in validator.iter_errors(example):
        yield f"{error.message} at {list(error.absolute_path)}"


def invalid_examples(document: Schema) -> list[str]:
    """Examples that do not validate against the schema that carries them: a component's
    own, and those an answer gives beside its schema (each error status's)."""
    problems = []
    for name, schema in document["components"]["schemas"].items():
        for index, example in enumerate(schema.get("examples", [])):
            problems += [
                f"{name} example {index}: {error}"
                for error in _errors(document, {"$ref": f"{REF}{name}"}, example)
            ]
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            for media, described in response.get("content", {}).items():
                if "example" in described and "schema" in described:
                    problems += [
                        f"{method} {path} {status} {media} example: {error}"
                        for error in _errors(document, described["schema"], described["example"])
                    ]
    return problems


def undescribed_operations(document: Schema) -> list[str]:
    return [
        f"{method} {path}: no {field}"
        for method, path, operation in _operations(document)
        for field in ("summary", "description")
        if not operation.get(field, "").strip()
    ]


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _routes(app: FastAPI) -> Iterator[tuple[str, APIRoute, set[Any]]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            path = context.path_format or route.path_format
            yield path, route, _calls(getattr(context, "dependant", route.dependant))


def undescribed_bodies(app: FastAPI, document: Schema) -> list[str]:
    """Routes that read a body (a model, a form, or a multipart stream they parse
    themselves) without the OpenAPI saying what it holds, or that it may be unreadable."""
    problems = []
    for path, route, _calls_made in _routes(app):
        reads_body = bool(route.dependant.body_params) or "requestBody" in (
            route.openapi_extra or {}
        )
        if not reads_body:
            continue
        for method in route.methods or ():
            operation = document["paths"][path][method.lower()]
            content = operation.get("requestBody", {}).get("content", {})
            if not content or not all(media.get("schema") for media in content.values()):
                problems.append(f"{method} {path}: request body not described")
            if "400" not in operation["responses"]:  # a body that cannot be read
                problems.append(f"{method} {path}: reads a body but does not list 400")
    return problems


def wrong_security(app: FastAPI, document: Schema) -> list[str]:
    """Operations whose `security` does not say what their dependencies do: none for a
    route that never looks at the caller; the token or the cookie (with the CSRF header on
    mutations) where it does; an empty requirement exactly when signed-out calls work."""
    problems = []
    schemes = document["components"].get("securitySchemes", {})
    for path, route, calls in _routes(app):
        for method in route.methods or ():
            label = f"{method} {path}"
            security = document["paths"][path][method.lower()].get("security")
            if current_caller not in calls:
                if security:
                    problems.append(f"{label}: security on a route that takes no caller")
                continue
            if not security:
                problems.append(f"{label}: takes a caller but lists no security")
                continue
            required = require_caller in calls or require_browser in calls
            if required == ({} in security):
                problems.append(
                    f"{label}: {'required' if required else 'optional'} caller, {security}"
                )
            cookie_requirements = [r for r in security if "sessionCookie" in r]
            if len(cookie_requirements) != 1:
                problems.append(f"{label}: the session cookie is not one alternative")
            elif ("csrfToken" in cookie_requirements[0]) != (check_csrf in calls):
                problems.append(f"{label}: the CSRF header does not follow CsrfDep")
            if require_browser not in calls and {"developerToken": []} not in security:
                problems.append(f"{label}: developer tokens not listed")
            unknown = {name for r in security for name in r} - set(schemes)
            if unknown:
                problems.append(f"{label}: unknown schemes {sorted(unknown)}")
    return problems


# --- plyr's document ----------------------------------------------------------------------


def test_every_route_says_what_it_answers(document: Schema) -> None:
    assert missing_answers(document) == []
    # The byte and event answers name their media type.
    paths = document["paths"]
    assert (
        "text/event-stream"
        in paths["/api/uploads/{upload_id}/progress"]["get"]["responses"]["200"]["content"]
    )
    assert "application/zip" in paths["/api/me/export"]["get"]["responses"]["200"]["content"]
    audio = paths["/audio/{track_id}"]["get"]["responses"]
    assert audio["200"]["content"]["audio/*"]["schema"] == BINARY
    assert audio["206"]["content"] == audio["200"]["content"]
    assert set(paths["/images/{track_id}/thumb"]["get"]["responses"]["200"]["content"]) == {
        "image/webp"
    }


def test_every_shape_a_client_meets_has_an_example(document: Schema) -> None:
    assert missing_examples(document) == []
    schemas = document["components"]["schemas"]
    for name in ("TrackOut", "TrackPage", "ErrorOut", "TrackEdit", "ListIn", "CommentIn"):
        assert schemas[name]["examples"], name
    # Each error status shows an answer of its own (not one error for all of them).
    like = document["paths"]["/api/tracks/{track_id}/like"]["post"]["responses"]
    codes = {
        like[s]["content"]["application/json"]["example"]["error"]["code"]
        for s in like
        if s.startswith("4")
    }
    assert {"invalid_token", "rate_limited", "unavailable_for_legal_reasons"} <= codes


def test_every_example_validates_against_its_own_schema(document: Schema) -> None:
    assert invalid_examples(document) == []
    with_examples = [s for s in document["components"]["schemas"].values() if s.get("examples")]
    assert len(with_examples) >= 50


def test_every_operation_has_a_summary_and_a_description(document: Schema) -> None:
    assert undescribed_operations(document) == []


def test_every_request_body_is_described(plyr_app: FastAPI, document: Schema) -> None:
    assert undescribed_bodies(plyr_app, document) == []


def test_security_follows_the_dependencies(plyr_app: FastAPI, document: Schema) -> None:
    assert wrong_security(plyr_app, document) == []
    schemes = document["components"]["securitySchemes"]
    assert schemes["developerToken"] == schemes["developerToken"] | {
        "type": "http",
        "scheme": "bearer",
    }
    assert (
        schemes["sessionCookie"] | {"in": "cookie", "name": COOKIE_NAME} == schemes["sessionCookie"]
    )
    assert schemes["csrfToken"]["in"] == "header"
    assert schemes["csrfToken"]["name"].lower() == "x-csrf-token"
    paths = document["paths"]
    cookie_csrf: dict[str, list[str]] = {"sessionCookie": [], "csrfToken": []}
    assert paths["/api/me/tracks"]["get"]["security"] == [
        {"developerToken": []},
        {"sessionCookie": []},
    ]
    assert {} in paths["/api/tracks"]["get"]["security"]  # signed out works too
    assert cookie_csrf in paths["/api/tracks/{track_id}/like"]["post"]["security"]
    assert "security" not in paths["/api/stats"]["get"]  # public: never looks at the caller
    assert "security" not in paths["/health"]["get"]


def test_info_states_the_version_and_the_policy(document: Schema) -> None:
    info = document["info"]
    assert info["version"] == API_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", API_VERSION)
    for words in ("/api/v2", "six months", "Deprecation", "Sunset", "Bearer", "X-Request-ID"):
        assert words in info["description"], words
    assert info["license"]["name"] == "MIT"
    assert info["contact"]["url"]
    assert document["servers"][0]["url"].startswith("http")


def test_the_track_pages_share_one_shape(document: Schema) -> None:
    paths = document["paths"]
    for path in TRACK_PAGE_ROUTES:
        operation = paths[path]["get"]
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": f"{REF}TrackPage"}, path
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"cursor", "limit"} <= names, path
    page = document["components"]["schemas"]["TrackPage"]
    assert set(page["properties"]) == {"tracks", "cursor"}
    assert page["properties"]["tracks"]["items"] == {"$ref": f"{REF}TrackOut"}


def test_the_document_is_served_at_both_addresses(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'plyr.db'}"))
    with TestClient(app) as client:
        served = client.get("/api/openapi.json").json()
        assert client.get("/openapi.json").json() == served
        docs = client.get("/docs", follow_redirects=False)
        assert docs.status_code == 308
        assert docs.headers["location"] == "/api/docs"
    assert served["info"]["version"] == API_VERSION


# --- the checks can fail --------------------------------------------------------------------


class Loose(BaseModel):  # no example
    name: str


class Wrong(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"name": 3}]}}  # not a string

    name: str


def _careless_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/untyped")
    async def untyped() -> dict[str, Any]:
        return {}

    @app.post("/api/loose")
    async def loose(body: Loose, caller: Annotated[Any, Depends(require_caller)]) -> Wrong:
        """Takes a caller, says nothing of it."""
        return Wrong(name=body.name)

    @app.get("/api/stream", responses={200: {"content": {}}})
    async def stream() -> None:
        """Events without a media type."""

    @app.get("/audio/{item_id}", responses={200: {"content": {"audio/mpeg": {}}}})
    async def audio(item_id: int) -> None:
        """Bytes described as JSON, and as nothing."""

    return app


def test_the_checks_find_what_a_careless_app_gets_wrong() -> None:
    app = _careless_app()
    document = app.openapi()
    document["paths"]["/api/untyped"]["get"].pop("summary")  # FastAPI makes one up
    # A multipart stream the route parses itself, with no body in the OpenAPI.
    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/api/stream")
    route.openapi_extra = {"requestBody": {"required": True}}

    assert any("untyped" in p and "/api/untyped" in p for p in missing_answers(document))
    assert any("/api/stream" in p for p in missing_answers(document))
    assert "GET /audio/{item_id} 200 audio/mpeg: not binary {}" in missing_answers(document)
    assert "GET /audio/{item_id} 200 application/json: untyped {}" in missing_answers(document)
    assert missing_examples(document) == ["ErrorOut: not in the document"]
    document["components"]["schemas"]["ErrorOut"] = {"properties": {}, "examples": [{}]}
    assert "Loose: no examples" in missing_examples(document)
    assert any(p.startswith("Wrong example 0") for p in invalid_examples(document))
    answer = document["paths"]["/api/loose"]["post"]["responses"]["200"]["content"]
    answer["application/json"]["example"] = {"name": None}
    assert any(p.startswith("POST /api/loose 200") for p in invalid_examples(document))
    assert "GET /api/untyped: no summary" in undescribed_operations(document)
    assert "GET /api/untyped: no description" in undescribed_operations(document)
    assert "GET /api/stream: request body not described" in undescribed_bodies(app, document)
    assert "POST /api/loose: reads a body but does not list 400" in undescribed_bodies(
        app, document
    )
    assert "POST /api/loose: takes a caller but lists no security" in wrong_security(app, document)


def test_install_openapi_adds_the_security_the_checks_want() -> None:
    app = _careless_app()
    install_openapi(app)
    document = app.openapi()
    assert wrong_security(app, document) == []
    assert document["paths"]["/api/loose"]["post"]["security"] == [
        {"developerToken": []},
        {"sessionCookie": []},
    ]
