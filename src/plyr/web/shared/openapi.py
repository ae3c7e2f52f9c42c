"""The OpenAPI document of the JSON API (`/api/openapi.json`, shown at `/api/docs`): its
`info` (the API's version and the versioning policy), `servers`, the tags, and the
security schemes, with each operation's `security` derived from the dependencies it runs
(`web.shared.caller`), so a new route is described right without anyone listing it; and
the models' examples (`web.shared.examples`) as pydantic wrote them.

`API_VERSION` is the one version of the API: it changes with what clients can see (a new
field or route: minor; a fix to the description: patch). A breaking change never ships
under `/api`: it gets a new prefix (`/api/v2`) while the old one keeps working for at
least six months, its answers carrying `Deprecation` and `Sunset` headers (RFC 9745, RFC
8594); the `plyrfm` SDK follows the API (docs/api.md says the same for people).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from plyr.auth.sessions import COOKIE_NAME, TOKEN_PREFIX
from plyr.config import Settings
from plyr.web.shared.caller import check_csrf, current_caller, require_browser, require_caller

API_VERSION = "1.0.0"

DESCRIPTION = f"""\
plyr's JSON API: the same service the web pages use, for scripts, apps and the `plyrfm`
SDK, CLI and MCP server (`clients/python`). The guide with curl examples is `docs/api.md`;
`/developers` on this site is the short version.

**Authentication.** Scripts send a developer token (`{TOKEN_PREFIX}…`, made on the settings
page) as `Authorization: Bearer <token>`; it needs no CSRF token. Browsers use the session
cookie, and every mutation made with it carries the session's CSRF token in the
`X-CSRF-Token` header. Operations list what they accept under `security`; one that also
works signed out lists an empty requirement.

**Errors** are JSON `{{"error": {{"code", "message", "request_id", "details"?}}}}`
(`ErrorOut`): `code` is stable, `message` is for people, and `request_id` is also the
`X-Request-ID` header of every answer. A 429 says when to come back in `Retry-After`.

**Paging.** Listings that can grow answer a page and a `cursor`; pass it back as `cursor`
for the next page until it is null.

**Versioning.** This document's `info.version` is the API's version. Within `/api`,
changes are additive: new routes, new optional parameters, new fields in answers (clients
must ignore fields they do not know). A breaking change gets a new prefix (`/api/v2`);
the old one keeps working for at least six months after the new one ships, and its
answers carry `Deprecation` and `Sunset` headers meanwhile. The `plyrfm` SDK follows.
"""

TAGS: list[dict[str, Any]] = [
    {"name": "account", "description": "who you are, your developer tokens, preferences"},
    {"name": "tracks", "description": "listing, uploading, reading, editing, deleting tracks"},
    {"name": "social", "description": "likes, comments, albums and playlists, profiles, tags"},
    {"name": "listening", "description": "now playing, plays, stats, top tracks, analytics"},
    {"name": "player", "description": "the queue your devices share"},
    {"name": "search", "description": "tracks, artists, albums, playlists, tags"},
    {"name": "export", "description": "everything of yours as one zip"},
    {"name": "sharing", "description": "oEmbed for track pages"},
    {
        "name": "media",
        "description": "the bytes, beside /api: a track's audio (ranges) and original, "
        "artwork and covers; errors as `ErrorOut` when `Accept` asks for JSON",
    },
    {"name": "health", "description": "for load balancers and monitoring"},
    {"name": "moderation", "description": "copyright review: your flags and appeals; operators"},
    {"name": "admin", "description": "operators only (`PLYR_ADMIN_DIDS`)"},
]

TOKEN_SCHEME = "developerToken"  # noqa: S105 - a scheme's name, not a secret
COOKIE_SCHEME = "sessionCookie"
CSRF_SCHEME = "csrfToken"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    TOKEN_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": f"{TOKEN_PREFIX}…",
        "description": "a developer token from the settings page, as `Authorization: "
        "Bearer <token>`; an unknown, revoked or expired one is refused (401 `invalid_token`)",
    },
    COOKIE_SCHEME: {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE_NAME,
        "description": "the browser's session cookie (set by signing in at /login); "
        "mutations made with it also need the CSRF token",
    },
    CSRF_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "the session's CSRF token (`data-csrf` on the `<body>` of any page "
        "while signed in); needed with the cookie on every mutation, never with a token "
        "(403 `csrf_failed` when wrong or missing). A multipart upload sends it as the "
        "`csrf_token` query parameter instead (its body is streamed, not read first)",
    },
}


def openapi_metadata(settings: Settings) -> dict[str, Any]:
    """`FastAPI(...)` arguments that fill the document's `info`, `servers` and tags."""
    return {
        "title": "plyr",
        "version": API_VERSION,
        "summary": "music streaming on the AT Protocol",
        "description": DESCRIPTION,
        "contact": {"name": "the operators of this plyr", "url": settings.public_url},
        "license_info": {"name": "MIT", "identifier": "MIT"},
        "servers": [{"url": settings.public_url, "description": "this plyr"}],
        "openapi_tags": TAGS,
    }


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found = {dependant.call} if dependant.call is not None else set()
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def security_of(dependant: Dependant) -> list[dict[str, list[str]]] | None:
    """An operation's `security`, from the dependencies it runs: None when it never looks
    at the caller; an empty requirement last when it also serves signed-out callers."""
    calls = _calls(dependant)
    if current_caller not in calls:
        return None
    cookie: dict[str, list[str]] = {COOKIE_SCHEME: []}
    if check_csrf in calls:
        cookie[CSRF_SCHEME] = []
    # Pages of the account itself take a browser session only (not reached over /api yet).
    token: dict[str, list[str]] = {TOKEN_SCHEME: []}
    requirements = [cookie] if require_browser in calls else [token, cookie]
    if require_caller not in calls and require_browser not in calls:
        requirements.append({})
    return requirements


def add_security(app: FastAPI, schema: dict[str, Any]) -> None:
    """The security schemes, and each operation's `security` (see `security_of`)."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for context in iter_route_contexts(app.routes):  # with the path it is served at
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema["paths"].get(context.path_format or route.path_format, {})
        requirements = security_of(getattr(context, "dependant", route.dependant))
        for method in context.methods or route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:
                continue
            if requirements is None:
                operation.pop("security", None)
            else:
                operation["security"] = requirements


def _api_routes(app: FastAPI) -> Iterator[APIRoute]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            yield route


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _models_in(argument)


def restore_examples(app: FastAPI, schema: dict[str, Any]) -> None:
    """FastAPI writes the document without None values (`exclude_none`), which also strips
    the `null`s out of examples, leaving them invalid against their own schema (a nullable
    field is still required). Put back each model's examples as pydantic wrote them."""
    models: set[type[BaseModel]] = set()
    for route in _api_routes(app):
        answers = [route.response_model, *(r.get("model") for r in route.responses.values())]
        bodies = [field.field_info.annotation for field in route.dependant.body_params]
        for annotation in (*answers, *bodies):
            models.update(_models_in(annotation))
    written: dict[str, Any] = {}
    for model in models:
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, part in {model.__name__: generated, **generated.get("$defs", {})}.items():
            if "examples" in part:
                written[name] = part["examples"]
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        if "examples" in component and name in written:
            component["examples"] = written[name]


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/api/openapi.json`) the completed document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            restore_examples(app, schema)
            add_security(app, schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
