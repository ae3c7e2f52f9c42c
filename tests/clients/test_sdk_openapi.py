"""The SDK cannot drift from plyr's API: every model's fields (names, required-ness, JSON
types with nullability, nested models) equal its `__schema__` component in the live
OpenAPI, and every entry of `plyrfm.routes.ROUTES` exists there with that method, query
parameters, request body and 2xx answer. The comparison is shown to fail on a doctored OpenAPI."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from plyrfm.models import PlyrModel, schema_models
from plyrfm.routes import ROUTES, Route
from tests.support.plyr_server import PlyrServer

Shape = frozenset[tuple[Any, ...]]  # the alternatives a value may be


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def shape(node: Mapping[str, Any], defs: Mapping[str, Any], name_of: Callable[[str], str]) -> Shape:
    """A JSON schema reduced to what a client depends on: the JSON types (null included),
    formats, enum values, array items, and which named model a value is. Bounds,
    titles and descriptions are left out."""
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        target = defs.get(name, {})
        if "enum" in target and "properties" not in target:
            return frozenset({("enum", tuple(sorted(map(str, target["enum"]))))})
        return frozenset({("model", name_of(name))})
    for union in ("anyOf", "oneOf"):
        if union in node:
            alternatives: set[tuple[Any, ...]] = set()
            for option in node[union]:
                alternatives |= shape(option, defs, name_of)
            return frozenset(alternatives)
    if "enum" in node:
        return frozenset({("enum", tuple(sorted(map(str, node["enum"]))))})
    if "const" in node:
        return frozenset({("enum", (str(node["const"]),))})
    kinds = node.get("type")
    if kinds is None:
        return frozenset({("any",)})
    found: set[tuple[Any, ...]] = set()
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind == "array":
            items = node.get("items")
            found.add(("array", shape(items, defs, name_of) if items else frozenset({("any",)})))
        elif kind == "string":
            found.add(("string", node.get("format")))
        else:
            found.add((kind,))
    return frozenset(found)


def fields(
    schema: Mapping[str, Any], defs: Mapping[str, Any], name_of: Callable[[str], str]
) -> dict[str, tuple[bool, Shape]]:
    required = set(schema.get("required", []))
    return {
        name: (name in required, shape(prop, defs, name_of))
        for name, prop in schema.get("properties", {}).items()
    }


def sdk_fields(model: type[PlyrModel]) -> dict[str, tuple[bool, Shape]]:
    """The model's fields as the server's schema would state them (nested SDK models
    named by the server schema they mirror)."""
    by_class = {cls.__name__: cls.__schema__ or cls.__name__ for cls in schema_models().values()}
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    return fields(schema, defs, lambda name: by_class.get(name, f"<sdk {name}>"))


def model_drift(model: type[PlyrModel], openapi: Mapping[str, Any]) -> list[str]:
    """How `model` differs from its `__schema__` in `openapi` ([] when it mirrors it)."""
    components = openapi.get("components", {}).get("schemas", {})
    name = model.__schema__
    if name not in components:
        return [f"{name}: no such schema in the OpenAPI (the SDK's {model.__name__})"]
    server = fields(components[name], components, lambda ref: ref)
    ours = sdk_fields(model)
    problems = []
    for field in sorted(server.keys() | ours.keys()):
        if field not in ours:
            problems.append(f"{name}.{field}: the server has it, {model.__name__} does not")
        elif field not in server:
            problems.append(f"{name}.{field}: {model.__name__} has it, the server does not")
        elif server[field][0] != ours[field][0]:
            says = "required" if server[field][0] else "optional"
            problems.append(f"{name}.{field}: {says} on the server, not in {model.__name__}")
        elif server[field][1] != ours[field][1]:
            problems.append(
                f"{name}.{field}: the server says {sorted(server[field][1], key=repr)}, "
                f"{model.__name__} {sorted(ours[field][1], key=repr)}"
            )
    return problems


def _json_schema(part: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    content = (part or {}).get("content", {})
    return content.get("application/json", {}).get("schema") if content else None


def route_drift(route: Route, openapi: Mapping[str, Any]) -> list[str]:
    """How a ROUTES entry differs from the OpenAPI: path, method, request body, answer."""
    where = f"{route.name} ({route.method} {route.path})"
    operation = openapi.get("paths", {}).get(route.path, {}).get(route.method.lower())
    if operation is None:
        return [f"{where}: no such operation in the OpenAPI"]
    problems = []
    takes = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    for name in route.query:
        if name not in takes:
            problems.append(f"{where}: the server takes no query parameter {name!r}")
    body = _json_schema(operation.get("requestBody"))
    stated_body = _ref_name(body["$ref"]) if body and "$ref" in body else None
    if stated_body != route.body:
        problems.append(f"{where}: the server takes {stated_body}, ROUTES says {route.body}")
    answers = {code: part for code, part in operation.get("responses", {}).items()}
    ok = {code: part for code, part in answers.items() if code.startswith("2")}
    if not ok:
        problems.append(f"{where}: no 2xx answer in the OpenAPI")
    if route.answer == "json":
        schema = next((s for s in map(_json_schema, ok.values()) if s), None) or {}
        if route.many:
            stated = _ref_name(schema.get("items", {}).get("$ref", "")) if schema else None
            stated = stated if schema.get("type") == "array" else None
        else:
            stated = _ref_name(schema["$ref"]) if "$ref" in schema else None
        if stated != route.response:
            many = "a list of " if route.many else ""
            problems.append(f"{where}: answers {stated}, ROUTES says {many}{route.response}")
    if route.answer == "events" and not any(
        "text/event-stream" in (part.get("content") or {}) for part in ok.values()
    ):
        problems.append(f"{where}: the OpenAPI does not say it streams events")
    if route.answer == "bytes" and not any(
        kind != "application/json" for part in ok.values() for kind in part.get("content") or {}
    ):
        problems.append(f"{where}: the OpenAPI does not say it answers a file")
    return problems


def all_drift(openapi: Mapping[str, Any]) -> list[str]:
    problems = [p for model in schema_models().values() for p in model_drift(model, openapi)]
    problems += [p for route in ROUTES.values() for p in route_drift(route, openapi)]
    return problems


@pytest.fixture
async def live_openapi(plyr: PlyrServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        answer = await http.get("/api/openapi.json")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_models_mirror_the_live_openapi(live_openapi: dict[str, Any]) -> None:
    problems = [p for model in schema_models().values() for p in model_drift(model, live_openapi)]
    assert problems == [], "the SDK's models drifted from the API:\n" + "\n".join(problems)


async def test_routes_exist_in_the_live_openapi(live_openapi: dict[str, Any]) -> None:
    problems = [p for route in ROUTES.values() for p in route_drift(route, live_openapi)]
    assert problems == [], "ROUTES drifted from the API:\n" + "\n".join(problems)


def test_every_route_names_schemas_the_sdk_models() -> None:
    models = schema_models()
    for route in ROUTES.values():
        for schema in (route.response, route.body):
            assert schema is None or schema in models, (route.name, schema)
        assert (route.answer == "json") == (route.response is not None), route.name


# The comparison itself: an OpenAPI made from the SDK's own models agrees with them, and
# each kind of change to it is reported.


def _openapi_of_the_sdk() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for name, model in schema_models().items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        defs = schema.pop("$defs", {})
        components[name] = schema
        for sub, sub_schema in defs.items():
            if "enum" in sub_schema:
                components[sub] = sub_schema
    by_class = {cls.__name__: name for name, cls in schema_models().items()}
    paths: dict[str, Any] = {}
    for route in ROUTES.values():
        ok: dict[str, Any] = {"description": "ok"}
        if route.response:
            ref = {"$ref": f"#/components/schemas/{route.response}"}
            ok["content"] = {
                "application/json": {
                    "schema": {"type": "array", "items": ref} if route.many else ref
                }
            }
        if route.answer == "events":
            ok["content"] = {"text/event-stream": {}}
        if route.answer == "bytes":
            ok["content"] = {"application/octet-stream": {}}
        operation: dict[str, Any] = {"responses": {"200": ok}}
        operation["parameters"] = [{"name": name, "in": "query"} for name in route.query]
        if route.body:
            body = {"$ref": f"#/components/schemas/{route.body}"}
            operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {"components": {"schemas": _renamed_refs(components, by_class)}, "paths": paths}


def _renamed_refs(node: Any, names: Mapping[str, str]) -> Any:
    """Point refs to the SDK's classes at the server schemas they mirror."""
    if isinstance(node, dict):
        return {
            k: f"#/components/schemas/{names.get(_ref_name(v), _ref_name(v))}"
            if k == "$ref"
            else _renamed_refs(v, names)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_renamed_refs(v, names) for v in node]
    return node


def test_the_comparison_passes_an_api_the_sdk_mirrors() -> None:
    assert all_drift(_openapi_of_the_sdk()) == []


def test_the_comparison_reports_each_kind_of_drift() -> None:
    openapi = _openapi_of_the_sdk()
    doctored = copy.deepcopy(openapi)
    track = doctored["components"]["schemas"]["TrackOut"]
    track["properties"]["name"] = track["properties"].pop("title")  # renamed
    track["required"] = [f if f != "title" else "name" for f in track["required"]]
    track["properties"]["play_count"] = {"type": "string"}  # another type
    track["properties"]["album"] = {"type": "string"}  # no longer nullable
    track["required"].remove("artist")  # no longer required
    ranked = doctored["components"]["schemas"]["RankedTrackOut"]
    ranked["properties"]["track"] = {"$ref": "#/components/schemas/TrackSummary"}  # other model
    doctored["components"]["schemas"]["Me"]["properties"]["pronouns"] = {"type": "string"}
    del doctored["components"]["schemas"]["StatsOut"]
    del doctored["paths"]["/api/me"]
    like = doctored["paths"]["/api/tracks/{track_id}/like"]["post"]["responses"]["200"]
    like["content"]["application/json"]["schema"]["$ref"] = "#/components/schemas/CommentOut"
    doctored["paths"]["/api/lists"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] = {"$ref": "#/components/schemas/ListRename"}
    download = doctored["paths"]["/audio/{track_id}/download"]["get"]["responses"]["200"]
    download["content"] = {"application/json": {}}  # a file no more
    paging = doctored["paths"]["/api/tracks"]["get"]["parameters"]
    paging[0]["name"] = "by"  # artist, renamed: the SDK's filter would be ignored

    problems = all_drift(doctored)

    expected = [
        "TrackOut.title: Track has it, the server does not",
        "TrackOut.name: the server has it, Track does not",
        "TrackOut.play_count: the server says",
        "TrackOut.album: the server says",
        "TrackOut.artist: optional on the server, not in Track",
        "RankedTrackOut.track: the server says [('model', 'TrackSummary')], RankedTrack",
        "Me.pronouns: the server has it, Me does not",
        "StatsOut: no such schema",
        "me (GET /api/me): no such operation",
        "like (POST /api/tracks/{track_id}/like): answers CommentOut, ROUTES says LikeOut",
        "create_list (POST /api/lists): the server takes ListRename, ROUTES says ListIn",
        "download (GET /audio/{track_id}/download): the OpenAPI does not say it answers a file",
        "tracks (GET /api/tracks): the server takes no query parameter 'artist'",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected), problems
