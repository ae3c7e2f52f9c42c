"""Every route parameter is read from where it is declared.

FastAPI finds a parameter's marker (`Form()`, `Body()`, `Path()`, `Query()`, `Depends()`…) only
at the top of its `Annotated`. Inside an Optional or a Union (`FormId | None`) the marker is
not seen: the parameter silently becomes a query parameter, so a form field is never read
from the form. This walks every route of the real app (and each dependency's own
parameters) and fails on such a hidden marker, or on a parameter that ended up somewhere
other than its marker says.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_signature
from fastapi.routing import APIRoute, iter_route_contexts

from plyr.web.app import create_app
from plyr.web.shared.params import MAX_ID, FormId, OptionalFormId
from tests.conftest import make_settings

# Where FastAPI puts a parameter with this marker (Form and File are kinds of Body).
LOCATIONS: dict[type[Any], str] = {
    params.Path: "path_params",
    params.Query: "query_params",
    params.Header: "header_params",
    params.Cookie: "cookie_params",
    params.Body: "body_params",
}
MARKERS = (params.Param, params.Body, params.Depends)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _top_marker(annotation: Any) -> Any | None:
    if get_origin(annotation) is Annotated:
        return next((m for m in get_args(annotation)[1:] if isinstance(m, MARKERS)), None)
    return None


def _hidden_markers(annotation: Any) -> list[Any]:
    """Markers inside a Union anywhere in the annotation (FastAPI never sees those)."""
    found: list[Any] = []
    if get_origin(annotation) is Annotated:
        return _hidden_markers(get_args(annotation)[0])
    if _is_union(annotation):
        for member in get_args(annotation):
            marker = _top_marker(member)
            if marker is not None:
                found.append(marker)
            found.extend(_hidden_markers(member))
    return found


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _location_of(dependant: Dependant, name: str) -> str | None:
    for location in LOCATIONS.values():
        for field in getattr(dependant, location):
            if field.name == name or getattr(field, "alias", None) == name:
                return location
    return None


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every route of the app with its full path (included routers are resolved lazily)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.append((f"{','.join(sorted(route.methods))} {context.path}", route))
    return found


def misplaced_params(app: FastAPI) -> list[str]:
    """Every parameter whose declared location FastAPI does not honour, as readable lines."""
    problems: list[str] = []
    for label, route in api_routes(app):
        for dependant in _dependants(route.dependant):
            call: Callable[..., Any] | None = dependant.call
            if call is None:
                continue
            for name, parameter in get_typed_signature(call).parameters.items():
                annotation = parameter.annotation
                for marker in _hidden_markers(annotation):
                    problems.append(
                        f"{label}: `{name}` has {type(marker).__name__}() inside an Optional/"
                        f"Union, so FastAPI ignores it (write Annotated[X | None, "
                        f"{type(marker).__name__}()])"
                    )
                marker = _top_marker(annotation)
                expected = next(
                    (loc for kind, loc in LOCATIONS.items() if isinstance(marker, kind)), None
                )
                if expected is None:
                    continue
                alias = getattr(marker, "alias", None) or name
                actual = _location_of(dependant, alias)
                if actual != expected:
                    problems.append(f"{label}: `{name}` declared in {expected}, read from {actual}")
    return problems


def test_every_route_reads_its_parameters_where_they_are_declared(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'plyr.db'}"))
    labels = [label for label, _route in api_routes(app)]
    assert len(labels) > 80  # the API and the pages, not an empty app
    assert "POST /playlists/new" in labels  # OptionalFormId is used there

    assert misplaced_params(app) == []


async def test_a_marker_inside_an_optional_is_found_and_really_misreads_the_form() -> None:
    """The check above can fail: `FormId | None` is flagged, and FastAPI really reads it
    from the query string; `OptionalFormId` is not flagged and is read from the form."""
    toy = FastAPI()

    @toy.post("/hidden")
    async def hidden(track_id: FormId | None = None) -> dict[str, int | None]:
        return {"track_id": track_id}

    @toy.post("/declared")
    async def declared(track_id: OptionalFormId = None) -> dict[str, int | None]:
        return {"track_id": track_id}

    problems = misplaced_params(toy)
    assert len(problems) == 1
    assert "POST /hidden: `track_id` has Form() inside an Optional/Union" in problems[0]

    transport = httpx.ASGITransport(app=toy)
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
        from_form = await http.post("/hidden", data={"track_id": "7"})
        from_query = await http.post("/hidden?track_id=8", data={"track_id": "7"})
        right = await http.post("/declared", data={"track_id": "7"})
        out_of_range = await http.post("/declared", data={"track_id": str(2**63)})
    assert from_form.json() == {"track_id": None}  # the form field was never read
    assert from_query.json() == {"track_id": 8}
    assert right.json() == {"track_id": 7}
    assert out_of_range.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/tracks/{}",
        "/api/tracks/{}/comments",
        "/api/lists/{}",
        "/tracks/{}",
        "/playlists/{}",
        "/embed/track/{}",
        "/audio/{}",
        "/images/{}",
        "/lists/{}/cover",
    ],
)
async def test_an_id_past_what_the_database_holds_is_refused_not_a_crash(
    client: httpx.AsyncClient, path: str
) -> None:
    """Ids are BIGINT: one past the range was a 500 from the driver, now a 422 at the edge;
    the largest one still reaches the database and is simply not there."""
    too_big = await client.get(path.format(MAX_ID + 1))
    assert too_big.status_code == 422, too_big.text
    largest = await client.get(path.format(MAX_ID))
    assert largest.status_code == 404, largest.text
